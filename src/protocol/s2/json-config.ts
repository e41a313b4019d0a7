/**
 * S2 JSON of the control plane (S2-API §4, §6.1, §7, §13): stream and basin configs and reconfigurations,
 * basin and stream infos, create requests. Nested wire objects map to the domain's flat config fields.
 */
import type { BasinConfig, BasinConfigPatch, RetentionPolicy, StreamConfig, StreamConfigSpec } from "../../domain/config";
import { invalid, type StreamError } from "../../domain/errors";
import type { BasinInfo, StreamInfo } from "../../domain/resources";
import { err, type Result } from "../../lib/result";
import { asBoolean, asEnum, asObject, asString, asU64, BadJson, optionalObject, readJson, type JsonObject } from "./json-fields";

const STORAGE_CLASSES = ["standard", "express"] as const;
const TIMESTAMPING_MODES = ["client-prefer", "client-require", "arrival"] as const;

/** Absent → undefined, null → null, value → read(value). */
function field<T>(json: JsonObject, key: string, read: (value: unknown, name: string) => T): T | null | undefined {
  const value = json[key];
  return value === undefined || value === null ? value : read(value, key);
}

function readRetention(value: unknown, name: string): RetentionPolicy {
  const json = asObject(value, name);
  if (json.infinite !== undefined && json.infinite !== null) {
    asObject(json.infinite, `${name}.infinite`);
    return { kind: "infinite" };
  }
  if (json.age === undefined || json.age === null) throw new BadJson(`${name}: expected {"age": seconds} or {"infinite": {}}`);
  return { kind: "age", ageSecs: asU64(json.age, `${name}.age`) };
}

/** A StreamConfig or StreamReconfiguration body: the same fields, absent / null / value each. */
export function readStreamConfigSpec(value: unknown, name: string): StreamConfigSpec {
  const json = asObject(value, name);
  const spec: StreamConfigSpec = {};
  const set = <K extends keyof StreamConfigSpec>(key: K, v: StreamConfigSpec[K] | undefined) => {
    if (v !== undefined) spec[key] = v;
  };
  set("storageClass", field(json, "storage_class", (v, n) => asEnum(v, STORAGE_CLASSES, n)));
  set("retentionPolicy", field(json, "retention_policy", readRetention));
  const timestamping = optionalObject(json.timestamping, "timestamping");
  if (timestamping === null) {
    spec.timestampingMode = null;
    spec.timestampingUncapped = null;
  } else if (timestamping) {
    set("timestampingMode", field(timestamping, "mode", (v, n) => asEnum(v, TIMESTAMPING_MODES, `timestamping.${n}`)));
    set("timestampingUncapped", field(timestamping, "uncapped", (v, n) => asBoolean(v, `timestamping.${n}`)));
  }
  const deleteOnEmpty = optionalObject(json.delete_on_empty, "delete_on_empty");
  if (deleteOnEmpty === null) spec.deleteOnEmptyMinAgeSecs = null;
  else if (deleteOnEmpty) set("deleteOnEmptyMinAgeSecs", field(deleteOnEmpty, "min_age_secs", (v, n) => asU64(v, `delete_on_empty.${n}`)));
  return spec;
}

/** Encryption is not offered: refuse a cipher rather than silently store plaintext (S2-API §15). */
function rejectCipher(json: JsonObject): void {
  if (json.stream_cipher !== undefined && json.stream_cipher !== null) throw new CipherUnsupported();
}
class CipherUnsupported extends Error {}

function parse<T>(read: () => T): Result<T, StreamError> {
  try {
    return readJson(read);
  } catch (error) {
    if (error instanceof CipherUnsupported) return err(invalid("stream encryption is not supported by this server"));
    throw error;
  }
}

export function parseStreamConfigSpec(body: unknown): Result<StreamConfigSpec, StreamError> {
  return parse(() => readStreamConfigSpec(body, "config"));
}

function readBasinConfig(value: unknown): BasinConfig {
  const json = asObject(value, "config");
  rejectCipher(json);
  const defaults = optionalObject(json.default_stream_config, "default_stream_config");
  return {
    defaultStreamConfig: defaults ? readStreamConfigSpec(defaults, "default_stream_config") : {},
    createStreamOnAppend: field(json, "create_stream_on_append", asBoolean) ?? false,
    createStreamOnRead: field(json, "create_stream_on_read", asBoolean) ?? false,
  };
}

export interface BasinRequest {
  name?: string;
  config: BasinConfig;
  location: string | null;
}

/** POST /basins `{basin, config?, location?}` and PUT /basins/{b} `{config?, location?}`. */
export function parseBasinRequest(body: unknown, withName: boolean): Result<BasinRequest, StreamError> {
  return parse(() => {
    const json = asObject(body, "body");
    const config = json.config == null ? readBasinConfig({}) : readBasinConfig(json.config);
    const location = field(json, "location", asString) ?? null;
    return withName ? { name: asString(json.basin, "basin"), config, location } : { config, location };
  });
}

export function parseBasinReconfiguration(body: unknown): Result<BasinConfigPatch, StreamError> {
  return parse(() => {
    const json = asObject(body, "body");
    rejectCipher(json);
    const patch: BasinConfigPatch = {};
    const defaults = optionalObject(json.default_stream_config, "default_stream_config");
    if (defaults === null) patch.defaultStreamConfig = null;
    else if (defaults) patch.defaultStreamConfig = readStreamConfigSpec(defaults, "default_stream_config");
    // null on these booleans is taken as "no change" (S2-API §13.2 recommendation).
    const onAppend = field(json, "create_stream_on_append", asBoolean);
    const onRead = field(json, "create_stream_on_read", asBoolean);
    if (onAppend != null) patch.createStreamOnAppend = onAppend;
    if (onRead != null) patch.createStreamOnRead = onRead;
    return patch;
  });
}

/** POST /streams `{stream, config?}`. */
export function parseCreateStreamRequest(body: unknown): Result<{ name: string; spec: StreamConfigSpec }, StreamError> {
  return parse(() => {
    const json = asObject(body, "body");
    const name = asString(json.stream, "stream");
    return { name, spec: json.config == null ? {} : readStreamConfigSpec(json.config, "config") };
  });
}

const renderRetention = (policy: RetentionPolicy) => (policy.kind === "age" ? { age: policy.ageSecs } : { infinite: {} });

/** Fully resolved, every field present, as s2-lite returns it. */
export function renderStreamConfig(config: StreamConfig) {
  return {
    storage_class: config.storageClass,
    retention_policy: renderRetention(config.retentionPolicy),
    timestamping: { mode: config.timestampingMode, uncapped: config.timestampingUncapped },
    delete_on_empty: { min_age_secs: config.deleteOnEmptyMinAgeSecs },
  };
}

/** As stored: unset fields are null, and no defaults at all is a null default_stream_config. */
function renderStreamConfigSpec(spec: StreamConfigSpec) {
  if (Object.values(spec).every((value) => value === undefined || value === null)) return null;
  const hasTimestamping = spec.timestampingMode != null || spec.timestampingUncapped != null;
  return {
    storage_class: spec.storageClass ?? null,
    retention_policy: spec.retentionPolicy ? renderRetention(spec.retentionPolicy) : null,
    timestamping: hasTimestamping ? { mode: spec.timestampingMode ?? null, uncapped: spec.timestampingUncapped ?? null } : null,
    delete_on_empty: spec.deleteOnEmptyMinAgeSecs != null ? { min_age_secs: spec.deleteOnEmptyMinAgeSecs } : null,
  };
}

export function renderBasinConfig(config: BasinConfig) {
  return {
    default_stream_config: renderStreamConfigSpec(config.defaultStreamConfig),
    stream_cipher: null,
    create_stream_on_append: config.createStreamOnAppend,
    create_stream_on_read: config.createStreamOnRead,
  };
}

const rfc3339 = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function renderBasinInfo(info: BasinInfo) {
  return {
    name: info.name,
    location: info.location,
    created_at: rfc3339(info.createdAtMs),
    deleted_at: rfc3339(info.deletedAtMs),
    state: info.deletedAtMs === null ? "active" : "deleting",
  };
}

export function renderStreamInfo(info: StreamInfo) {
  return { name: info.name, created_at: rfc3339(info.createdAtMs), deleted_at: rfc3339(info.deletedAtMs), cipher: null };
}
