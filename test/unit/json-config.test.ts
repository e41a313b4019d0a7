import { describe, expect, it } from "vitest";
import { DEFAULT_BASIN_CONFIG, SYSTEM_STREAM_DEFAULTS, type BasinConfig } from "../../src/domain/config";
import {
  parseBasinReconfiguration,
  parseBasinRequest,
  parseCreateStreamRequest,
  parseStreamConfigSpec,
  renderBasinConfig,
  renderBasinInfo,
  renderStreamConfig,
  renderStreamInfo,
} from "../../src/protocol/s2/json-config";
import { unwrap, unwrapErr } from "./support";

// S2-API §4.1 and §13.
describe("parseStreamConfigSpec", () => {
  it("reads every field of a full config", () => {
    const spec = unwrap(parseStreamConfigSpec({
      storage_class: "standard",
      retention_policy: { age: 3600 },
      timestamping: { mode: "arrival", uncapped: true },
      delete_on_empty: { min_age_secs: 60 },
    }));
    expect(spec).toEqual({
      storageClass: "standard",
      retentionPolicy: { kind: "age", ageSecs: 3600 },
      timestampingMode: "arrival",
      timestampingUncapped: true,
      deleteOnEmptyMinAgeSecs: 60,
    });
  });

  it("reads infinite retention", () => {
    expect(unwrap(parseStreamConfigSpec({ retention_policy: { infinite: {} } })).retentionPolicy).toEqual({ kind: "infinite" });
  });

  it("leaves absent fields absent", () => {
    expect(unwrap(parseStreamConfigSpec({}))).toEqual({});
    const spec = unwrap(parseStreamConfigSpec({ timestamping: {}, delete_on_empty: {} }));
    expect(Object.keys(spec)).toEqual([]);
  });

  it("keeps null distinct from absent, including nested fields", () => {
    const spec = unwrap(parseStreamConfigSpec({ storage_class: null, retention_policy: null, delete_on_empty: null }));
    expect(spec).toEqual({ storageClass: null, retentionPolicy: null, deleteOnEmptyMinAgeSecs: null });
    expect(spec).not.toHaveProperty("timestampingMode");
    expect(unwrap(parseStreamConfigSpec({ timestamping: null }))).toEqual({ timestampingMode: null, timestampingUncapped: null });
    const nested = unwrap(parseStreamConfigSpec({ timestamping: { mode: null }, delete_on_empty: { min_age_secs: null } }));
    expect(nested).toEqual({ timestampingMode: null, deleteOnEmptyMinAgeSecs: null });
    expect(nested).not.toHaveProperty("timestampingUncapped");
  });

  it("parses retention age 0 (rejected later by the domain with invalid)", () => {
    expect(unwrap(parseStreamConfigSpec({ retention_policy: { age: 0 } })).retentionPolicy).toEqual({ kind: "age", ageSecs: 0 });
  });

  it("rejects wrong types and unknown enum values with bad_json", () => {
    const bodies: unknown[] = [
      null,
      [],
      "config",
      { storage_class: "premium" },
      { storage_class: 1 },
      { retention_policy: {} },
      { retention_policy: { age: -1 } },
      { retention_policy: { age: "60" } },
      { retention_policy: 60 },
      { timestamping: { mode: "server" } },
      { timestamping: { uncapped: "yes" } },
      { timestamping: "arrival" },
      { delete_on_empty: { min_age_secs: -5 } },
      { delete_on_empty: 5 },
    ];
    for (const body of bodies) expect(unwrapErr(parseStreamConfigSpec(body)).code, JSON.stringify(body)).toBe("bad_json");
  });
});

describe("renderStreamConfig", () => {
  it("renders the fully resolved config with every field, as lite does", () => {
    expect(renderStreamConfig(SYSTEM_STREAM_DEFAULTS)).toEqual({
      storage_class: "express",
      retention_policy: { age: 604800 },
      timestamping: { mode: "client-prefer", uncapped: false },
      delete_on_empty: { min_age_secs: 0 },
    });
    expect(renderStreamConfig({ ...SYSTEM_STREAM_DEFAULTS, retentionPolicy: { kind: "infinite" } }).retention_policy).toEqual({ infinite: {} });
  });
});

describe("parseBasinRequest", () => {
  it("defaults config and location", () => {
    expect(unwrap(parseBasinRequest({ basin: "my-basin-1" }, true))).toEqual({ name: "my-basin-1", config: DEFAULT_BASIN_CONFIG, location: null });
    expect(unwrap(parseBasinRequest({ config: null, location: null }, false))).toEqual({ config: DEFAULT_BASIN_CONFIG, location: null });
  });

  it("reads a full basin config", () => {
    const request = unwrap(parseBasinRequest({
      basin: "my-basin-1",
      config: { default_stream_config: { storage_class: "standard" }, create_stream_on_append: true, create_stream_on_read: false, stream_cipher: null },
      location: "aws:us-east-1",
    }, true));
    expect(request).toEqual({
      name: "my-basin-1",
      config: { defaultStreamConfig: { storageClass: "standard" }, createStreamOnAppend: true, createStreamOnRead: false },
      location: "aws:us-east-1",
    });
  });

  it("requires the basin name only when asked to", () => {
    expect(unwrapErr(parseBasinRequest({}, true)).code).toBe("bad_json");
    expect(unwrapErr(parseBasinRequest({ basin: 5 }, true)).code).toBe("bad_json");
    expect(parseBasinRequest({}, false).ok).toBe(true);
  });

  it("rejects a stream cipher with invalid", () => {
    expect(unwrapErr(parseBasinRequest({ basin: "my-basin-1", config: { stream_cipher: "aegis-256" } }, true)).code).toBe("invalid");
    expect(unwrapErr(parseBasinRequest({ config: { stream_cipher: "aes-256-gcm" } }, false)).code).toBe("invalid");
  });

  it("rejects wrong types with bad_json", () => {
    expect(unwrapErr(parseBasinRequest({ config: { create_stream_on_read: "true" } }, false)).code).toBe("bad_json");
    expect(unwrapErr(parseBasinRequest({ config: [] }, false)).code).toBe("bad_json");
    expect(unwrapErr(parseBasinRequest({ location: 1 }, false)).code).toBe("bad_json");
  });
});

describe("parseBasinReconfiguration (S2-API §13.2)", () => {
  it("leaves absent fields absent", () => {
    expect(unwrap(parseBasinReconfiguration({}))).toEqual({});
  });

  it("distinguishes a null default_stream_config from a patch", () => {
    expect(unwrap(parseBasinReconfiguration({ default_stream_config: null }))).toEqual({ defaultStreamConfig: null });
    expect(unwrap(parseBasinReconfiguration({ default_stream_config: { storage_class: null, timestamping: { uncapped: true } } }))).toEqual({
      defaultStreamConfig: { storageClass: null, timestampingUncapped: true },
    });
  });

  it("takes null booleans as no change, values as set", () => {
    expect(unwrap(parseBasinReconfiguration({ create_stream_on_append: null, create_stream_on_read: null }))).toEqual({});
    expect(unwrap(parseBasinReconfiguration({ create_stream_on_append: false, create_stream_on_read: true }))).toEqual({
      createStreamOnAppend: false,
      createStreamOnRead: true,
    });
  });

  it("rejects a stream cipher with invalid and accepts null", () => {
    expect(unwrapErr(parseBasinReconfiguration({ stream_cipher: "aegis-256" })).code).toBe("invalid");
    expect(unwrap(parseBasinReconfiguration({ stream_cipher: null }))).toEqual({});
  });

  it("rejects wrong types with bad_json", () => {
    expect(unwrapErr(parseBasinReconfiguration({ create_stream_on_append: 1 })).code).toBe("bad_json");
    expect(unwrapErr(parseBasinReconfiguration({ default_stream_config: "x" })).code).toBe("bad_json");
  });
});

describe("parseCreateStreamRequest", () => {
  it("reads the name and an optional config", () => {
    expect(unwrap(parseCreateStreamRequest({ stream: "a/b" }))).toEqual({ name: "a/b", spec: {} });
    expect(unwrap(parseCreateStreamRequest({ stream: "s", config: null }))).toEqual({ name: "s", spec: {} });
    expect(unwrap(parseCreateStreamRequest({ stream: "s", config: { storage_class: "standard" } }))).toEqual({ name: "s", spec: { storageClass: "standard" } });
  });

  it("rejects a missing name with bad_json", () => {
    expect(unwrapErr(parseCreateStreamRequest({})).code).toBe("bad_json");
  });
});

describe("renderBasinConfig: default_stream_config as stored", () => {
  it("renders no defaults as null", () => {
    expect(renderBasinConfig(DEFAULT_BASIN_CONFIG)).toEqual({
      default_stream_config: null,
      stream_cipher: null,
      create_stream_on_append: false,
      create_stream_on_read: false,
    });
    expect(renderBasinConfig({ ...DEFAULT_BASIN_CONFIG, defaultStreamConfig: { storageClass: null } }).default_stream_config).toBeNull();
  });

  it("renders unset fields as null and only set nested fields", () => {
    const config: BasinConfig = { defaultStreamConfig: { timestampingUncapped: true }, createStreamOnAppend: true, createStreamOnRead: true };
    expect(renderBasinConfig(config)).toEqual({
      default_stream_config: { storage_class: null, retention_policy: null, timestamping: { mode: null, uncapped: true }, delete_on_empty: null },
      stream_cipher: null,
      create_stream_on_append: true,
      create_stream_on_read: true,
    });
  });

  it("renders set falsy values, not null", () => {
    const rendered = renderBasinConfig({ ...DEFAULT_BASIN_CONFIG, defaultStreamConfig: { timestampingUncapped: false, deleteOnEmptyMinAgeSecs: 0 } });
    expect(rendered.default_stream_config).toEqual({
      storage_class: null,
      retention_policy: null,
      timestamping: { mode: null, uncapped: false },
      delete_on_empty: { min_age_secs: 0 },
    });
  });

  it("round-trips through parseBasinRequest", () => {
    const config: BasinConfig = {
      defaultStreamConfig: { storageClass: "standard", retentionPolicy: { kind: "infinite" }, timestampingMode: "client-require" },
      createStreamOnAppend: false,
      createStreamOnRead: true,
    };
    const parsed = unwrap(parseBasinRequest({ config: renderBasinConfig(config) }, false)).config;
    expect(parsed.createStreamOnRead).toBe(true);
    expect(renderBasinConfig(parsed)).toEqual(renderBasinConfig(config));
  });
});

describe("renderBasinInfo and renderStreamInfo (S2-API §4)", () => {
  it("renders RFC 3339 times, null deleted_at and the derived state", () => {
    const created = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    expect(renderBasinInfo({ name: "my-basin-1", location: null, createdAtMs: created, deletedAtMs: null })).toEqual({
      name: "my-basin-1",
      location: null,
      created_at: "2026-01-02T03:04:05.678Z",
      deleted_at: null,
      state: "active",
    });
    const deleting = renderBasinInfo({ name: "b", location: "x", createdAtMs: 0, deletedAtMs: created });
    expect(deleting.state).toBe("deleting");
    expect(deleting.deleted_at).toBe("2026-01-02T03:04:05.678Z");
    expect(renderStreamInfo({ name: "s", createdAtMs: 0, deletedAtMs: null })).toEqual({
      name: "s",
      created_at: "1970-01-01T00:00:00.000Z",
      deleted_at: null,
      cipher: null,
    });
  });
});
