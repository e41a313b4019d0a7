/**
 * Stream and basin configuration (S2-API §4.1, §13). A StreamConfig is always fully resolved; a
 * StreamConfigSpec is what a client asked for, field by field: absent = not mentioned, null = cleared (reset to
 * the basin default, then the system default), value = set. Nested wire objects (`timestamping`,
 * `delete_on_empty`) are flattened here so resolution and patching are one loop over fields.
 */
import { err, ok, type Result } from "../lib/result";
import { invalid, type StreamError } from "./errors";
import type { TimestampingMode } from "./timestamping";

export type StorageClass = "standard" | "express";
export type RetentionPolicy = { kind: "age"; ageSecs: number } | { kind: "infinite" };

export interface StreamConfig {
  storageClass: StorageClass;
  retentionPolicy: RetentionPolicy;
  timestampingMode: TimestampingMode;
  timestampingUncapped: boolean;
  /** 0 disables delete-on-empty. */
  deleteOnEmptyMinAgeSecs: number;
}

export type StreamConfigSpec = { [K in keyof StreamConfig]?: StreamConfig[K] | null };

export interface BasinConfig {
  /** Kept as requested: fields left unset fall through to the system defaults at stream creation. */
  defaultStreamConfig: StreamConfigSpec;
  createStreamOnAppend: boolean;
  createStreamOnRead: boolean;
}

export interface BasinConfigPatch {
  /** null clears every default; a spec patches field by field (null clears that field). */
  defaultStreamConfig?: StreamConfigSpec | null;
  createStreamOnAppend?: boolean;
  createStreamOnRead?: boolean;
}

/** What a stream gets when neither it nor its basin says otherwise (S2-API §4.1). */
export const SYSTEM_STREAM_DEFAULTS: Readonly<StreamConfig> = {
  storageClass: "express",
  retentionPolicy: { kind: "age", ageSecs: 7 * 24 * 3600 },
  timestampingMode: "client-prefer",
  timestampingUncapped: false,
  deleteOnEmptyMinAgeSecs: 0,
};

export const DEFAULT_BASIN_CONFIG: Readonly<BasinConfig> = {
  defaultStreamConfig: {},
  createStreamOnAppend: false,
  createStreamOnRead: false,
};

const FIELDS = Object.keys(SYSTEM_STREAM_DEFAULTS) as (keyof StreamConfig)[];

function pick<K extends keyof StreamConfig>(key: K, ...sources: StreamConfigSpec[]): StreamConfig[K] {
  for (const source of sources) {
    const value = source[key];
    if (value !== undefined && value !== null) return value as StreamConfig[K];
  }
  return SYSTEM_STREAM_DEFAULTS[key];
}

/** Requested field ?? basin default ?? system default (S2-API §13.1). */
export function resolveStreamConfig(requested: StreamConfigSpec, basinDefaults: StreamConfigSpec): StreamConfig {
  const resolved = {} as Record<keyof StreamConfig, unknown>;
  for (const key of FIELDS) resolved[key] = pick(key, requested, basinDefaults);
  return resolved as unknown as StreamConfig;
}

/** PATCH on a stream (S2-API §13.2): absent keeps, value sets, null re-resolves from the basin default. */
export function patchStreamConfig(current: StreamConfig, patch: StreamConfigSpec, basinDefaults: StreamConfigSpec): StreamConfig {
  const patched = { ...current } as Record<keyof StreamConfig, unknown>;
  for (const key of FIELDS) {
    const value = patch[key];
    if (value === null) patched[key] = pick(key, basinDefaults);
    else if (value !== undefined) patched[key] = value;
  }
  return patched as unknown as StreamConfig;
}

/** PATCH on a basin's default stream config: null removes a default, a value sets it. */
export function patchStreamConfigSpec(current: StreamConfigSpec, patch: StreamConfigSpec): StreamConfigSpec {
  const patched: Record<string, unknown> = { ...current };
  for (const key of FIELDS) {
    const value = patch[key];
    if (value === null) delete patched[key];
    else if (value !== undefined) patched[key] = value;
  }
  return patched as StreamConfigSpec;
}

export function patchBasinConfig(current: BasinConfig, patch: BasinConfigPatch): BasinConfig {
  let defaults = current.defaultStreamConfig;
  if (patch.defaultStreamConfig === null) defaults = {};
  else if (patch.defaultStreamConfig !== undefined) defaults = patchStreamConfigSpec(defaults, patch.defaultStreamConfig);
  return {
    defaultStreamConfig: defaults,
    createStreamOnAppend: patch.createStreamOnAppend ?? current.createStreamOnAppend,
    createStreamOnRead: patch.createStreamOnRead ?? current.createStreamOnRead,
  };
}

/** Semantic rules the wire parser cannot express (S2-API §4.1). */
export function checkStreamConfigSpec(spec: StreamConfigSpec): Result<StreamConfigSpec, StreamError> {
  const retention = spec.retentionPolicy;
  if (retention?.kind === "age" && retention.ageSecs <= 0) return err(invalid("age must be greater than 0 seconds"));
  return ok(spec);
}

/** When retention drops a batch appended at `arrivalMs`; null for infinite retention. */
export function retentionExpiresAtMs(config: StreamConfig, arrivalMs: number): number | null {
  const retention = config.retentionPolicy;
  return retention.kind === "age" ? arrivalMs + retention.ageSecs * 1000 : null;
}

export function sameStreamConfig(a: StreamConfig, b: StreamConfig): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted, so equal values always serialize alike (configs, idempotency fingerprints). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
