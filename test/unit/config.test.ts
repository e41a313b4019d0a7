import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  checkStreamConfigSpec,
  DEFAULT_BASIN_CONFIG,
  patchBasinConfig,
  patchStreamConfig,
  patchStreamConfigSpec,
  resolveStreamConfig,
  sameStreamConfig,
  SYSTEM_STREAM_DEFAULTS,
  type BasinConfig,
  type StreamConfig,
  type StreamConfigSpec,
} from "../../src/domain/config";
import { unwrap, unwrapErr } from "./support";

const SYSTEM: StreamConfig = {
  storageClass: "express",
  retentionPolicy: { kind: "age", ageSecs: 604800 },
  timestampingMode: "client-prefer",
  timestampingUncapped: false,
  deleteOnEmptyMinAgeSecs: 0,
};

describe("system defaults (S2-API §4.1)", () => {
  it("are express, 7 days, client-prefer capped, delete-on-empty off", () => {
    expect(SYSTEM_STREAM_DEFAULTS).toEqual(SYSTEM);
    expect(DEFAULT_BASIN_CONFIG).toEqual({ defaultStreamConfig: {}, createStreamOnAppend: false, createStreamOnRead: false });
  });
});

describe("resolveStreamConfig (S2-API §13.1)", () => {
  it("falls back to system defaults when nothing is set", () => {
    expect(resolveStreamConfig({}, {})).toEqual(SYSTEM);
  });

  it("prefers the stream's value, then the basin default, then the system default", () => {
    const basin: StreamConfigSpec = { storageClass: "standard", timestampingMode: "arrival", deleteOnEmptyMinAgeSecs: 60 };
    const requested: StreamConfigSpec = { timestampingMode: "client-require", retentionPolicy: { kind: "infinite" } };
    expect(resolveStreamConfig(requested, basin)).toEqual({
      storageClass: "standard",
      retentionPolicy: { kind: "infinite" },
      timestampingMode: "client-require",
      timestampingUncapped: false,
      deleteOnEmptyMinAgeSecs: 60,
    });
  });

  it("treats null like absent", () => {
    expect(resolveStreamConfig({ storageClass: null }, { storageClass: "standard" }).storageClass).toBe("standard");
    expect(resolveStreamConfig({ storageClass: null }, { storageClass: null })).toEqual(SYSTEM);
  });

  it("keeps falsy values that are set", () => {
    const resolved = resolveStreamConfig({ timestampingUncapped: false, deleteOnEmptyMinAgeSecs: 0 }, { timestampingUncapped: true, deleteOnEmptyMinAgeSecs: 9 });
    expect(resolved.timestampingUncapped).toBe(false);
    expect(resolved.deleteOnEmptyMinAgeSecs).toBe(0);
  });
});

describe("patchStreamConfig (S2-API §13.2)", () => {
  const current: StreamConfig = { ...SYSTEM, storageClass: "standard", timestampingUncapped: true, deleteOnEmptyMinAgeSecs: 30 };

  it("keeps absent fields", () => {
    expect(patchStreamConfig(current, {}, { storageClass: "express" })).toEqual(current);
  });

  it("sets given values", () => {
    const patched = patchStreamConfig(current, { timestampingMode: "arrival", retentionPolicy: { kind: "age", ageSecs: 5 } }, {});
    expect(patched).toEqual({ ...current, timestampingMode: "arrival", retentionPolicy: { kind: "age", ageSecs: 5 } });
  });

  it("re-resolves null fields from the basin default, then the system default", () => {
    const basin: StreamConfigSpec = { deleteOnEmptyMinAgeSecs: 7 };
    const patched = patchStreamConfig(current, { storageClass: null, deleteOnEmptyMinAgeSecs: null }, basin);
    expect(patched.storageClass).toBe("express");
    expect(patched.deleteOnEmptyMinAgeSecs).toBe(7);
    expect(patched.timestampingUncapped).toBe(true);
  });

  it("does not mutate its inputs", () => {
    const before = structuredClone(current);
    patchStreamConfig(current, { storageClass: "express" }, {});
    expect(current).toEqual(before);
  });
});

describe("patchStreamConfigSpec", () => {
  it("keeps absent, sets values and removes nulls", () => {
    const current: StreamConfigSpec = { storageClass: "standard", timestampingMode: "arrival" };
    const patched = patchStreamConfigSpec(current, { storageClass: null, retentionPolicy: { kind: "infinite" } });
    expect(patched).toEqual({ timestampingMode: "arrival", retentionPolicy: { kind: "infinite" } });
    expect("storageClass" in patched).toBe(false);
    expect(current).toEqual({ storageClass: "standard", timestampingMode: "arrival" });
  });
});

describe("patchBasinConfig", () => {
  const current: BasinConfig = {
    defaultStreamConfig: { storageClass: "standard", deleteOnEmptyMinAgeSecs: 5 },
    createStreamOnAppend: true,
    createStreamOnRead: false,
  };

  it("keeps everything on an empty patch", () => {
    expect(patchBasinConfig(current, {})).toEqual(current);
  });

  it("clears all defaults on a null default_stream_config", () => {
    expect(patchBasinConfig(current, { defaultStreamConfig: null }).defaultStreamConfig).toEqual({});
  });

  it("patches default_stream_config field by field", () => {
    const patched = patchBasinConfig(current, { defaultStreamConfig: { storageClass: null, timestampingUncapped: true } });
    expect(patched.defaultStreamConfig).toEqual({ deleteOnEmptyMinAgeSecs: 5, timestampingUncapped: true });
  });

  it("sets booleans, including false", () => {
    const patched = patchBasinConfig(current, { createStreamOnAppend: false, createStreamOnRead: true });
    expect(patched.createStreamOnAppend).toBe(false);
    expect(patched.createStreamOnRead).toBe(true);
    expect(patched.defaultStreamConfig).toEqual(current.defaultStreamConfig);
  });
});

describe("checkStreamConfigSpec", () => {
  it("rejects retention age 0 with invalid", () => {
    expect(unwrapErr(checkStreamConfigSpec({ retentionPolicy: { kind: "age", ageSecs: 0 } }))).toEqual({
      code: "invalid",
      message: "age must be greater than 0 seconds",
    });
  });

  it("accepts age 1, infinite, null and absent", () => {
    for (const spec of [{ retentionPolicy: { kind: "age", ageSecs: 1 } }, { retentionPolicy: { kind: "infinite" } }, { retentionPolicy: null }, {}] as StreamConfigSpec[]) {
      expect(unwrap(checkStreamConfigSpec(spec))).toEqual(spec);
    }
  });
});

describe("canonicalJson and sameStreamConfig", () => {
  it("is independent of key order, at every depth", () => {
    const a = { b: 1, a: { y: [3, { q: 1, p: 2 }], x: null } };
    const b = { a: { x: null, y: [3, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":null,"y":[3,{"p":2,"q":1}]},"b":1}');
  });

  it("keeps array order and distinguishes values", () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });

  it("compares stream configs by value", () => {
    const reordered: StreamConfig = {
      deleteOnEmptyMinAgeSecs: 0,
      timestampingUncapped: false,
      timestampingMode: "client-prefer",
      retentionPolicy: { ageSecs: 604800, kind: "age" },
      storageClass: "express",
    };
    expect(sameStreamConfig(SYSTEM, reordered)).toBe(true);
    expect(sameStreamConfig(SYSTEM, { ...SYSTEM, timestampingUncapped: true })).toBe(false);
    expect(sameStreamConfig(SYSTEM, { ...SYSTEM, retentionPolicy: { kind: "infinite" } })).toBe(false);
  });
});
