/** Shared helpers for the unit tests: unwrapping Results and building records. */
import { expect } from "vitest";
import type { Header } from "../../src/domain/types";
import { utf8 } from "../../src/lib/bytes";
import type { Result } from "../../src/lib/result";

export function unwrap<T, E>(result: Result<T, E>): T {
  if (!result.ok) throw new Error(`expected ok, got: ${JSON.stringify(result.error)}`);
  return result.value;
}

export function unwrapErr<T, E>(result: Result<T, E>): E {
  expect(result.ok, `expected an error, got: ${JSON.stringify(result)}`).toBe(false);
  if (result.ok) throw new Error("unreachable");
  return result.error;
}

export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

export const header = (name: string, value: string): Header => [utf8(name), utf8(value)];

/** A plain record with an optional client timestamp. */
export function record(body: string | Uint8Array = "", headers: Header[] = [], timestamp?: number) {
  return {
    headers,
    body: typeof body === "string" ? utf8(body) : body,
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}
