/**
 * Field readers for S2 JSON bodies. A body that parses but has a field of the wrong shape is rejected the
 * way s2-lite's deserializer rejects it: `400 bad_json` with a message naming the field (S2-API §2.3).
 * Semantic rules are not checked here; the domain answers those with `422 invalid`.
 */
import { streamError, type StreamError } from "../../domain/errors";
import { U64_SAFE_MAX } from "../../domain/limits";

export class BadJson extends Error {}

export type JsonObject = Record<string, unknown>;

export function badJson(message: string): StreamError {
  return streamError("bad_json", message);
}

export function asObject(value: unknown, field: string): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new BadJson(`${field}: expected an object`);
  return value as JsonObject;
}

/** Absent stays undefined, null stays null, anything else must be an object. */
export function optionalObject(value: unknown, field: string): JsonObject | null | undefined {
  return value === undefined || value === null ? value : asObject(value, field);
}

export function asString(value: unknown, field: string): string {
  if (typeof value !== "string") throw new BadJson(`${field}: expected a string`);
  return value;
}

export function asBoolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new BadJson(`${field}: expected a boolean`);
  return value;
}

/** u64: JSON numbers lose precision past 2^53, and the engine keeps numbers below it, so larger values clamp. */
export function asU64(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new BadJson(`${field}: expected a non-negative integer`);
  }
  return Math.min(value, U64_SAFE_MAX);
}

export function asArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new BadJson(`${field}: expected an array`);
  return value;
}

export function asEnum<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new BadJson(`${field}: expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** Runs a reader, turning a BadJson into `400 bad_json`; other errors are bugs and propagate. */
export function readJson<T>(read: () => T): { ok: true; value: T } | { ok: false; error: StreamError } {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    if (error instanceof BadJson) return { ok: false, error: badJson(error.message) };
    throw error;
  }
}
