// The S2 usage metrics API's pure parts: query parsing and its errors (protocol/s2/json-metrics.ts), set
// intervals and windows, and each set's metrics (domain/metric-sets.ts).
import { describe, expect, it } from "vitest";
import {
  ACCOUNT_METRIC_SETS, ACCOUNT_OPS, accountMetricSet, BASIN_METRIC_SETS, BASIN_OPS, basinMetricSet, metricRange, STREAM_METRIC_SETS,
  streamMetricSet,
} from "../../src/domain/metric-sets";
import type { UsageRange } from "../../src/domain/usage";
import { parseMetricQuery, renderMetricSet } from "../../src/protocol/s2/json-metrics";
import { unwrap, unwrapErr } from "./support";

const NOW_SECS = 1_700_003_600;
const NOW_MS = NOW_SECS * 1000;
const q = (query: string) => new URLSearchParams(query);

describe("parseMetricQuery", () => {
  it("parses set, start, end and an optional interval", () => {
    expect(unwrap(parseMetricQuery(q("set=append-ops&start=10&end=20&interval=minute"), BASIN_METRIC_SETS)))
      .toEqual({ set: "append-ops", startSecs: 10, endSecs: 20, interval: "minute" });
    expect(unwrap(parseMetricQuery(q("set=active-basins&start=0&end=4294967295"), ACCOUNT_METRIC_SETS)))
      .toEqual({ set: "active-basins", startSecs: 0, endSecs: 4294967295 });
  });

  it.each([
    ["no set", "start=1&end=2", 400, "bad_query"],
    ["an unknown set", "set=nope&start=1&end=2", 422, "invalid"],
    ["a basin set at stream level", "set=append-ops&start=1&end=2", 422, "invalid"],
    ["no start", "set=storage&end=2", 422, "invalid"],
    ["no end", "set=storage&start=2", 422, "invalid"],
    ["start not a number", "set=storage&start=x&end=2", 400, "bad_query"],
    ["end beyond u32", "set=storage&start=1&end=4294967296", 400, "bad_query"],
    ["a negative start", "set=storage&start=-1&end=2", 400, "bad_query"],
    ["an unknown interval", "set=storage&start=1&end=2&interval=week", 422, "invalid"],
  ])("refuses %s", (_name, query, status, code) => {
    const error = unwrapErr(parseMetricQuery(q(query), STREAM_METRIC_SETS));
    expect(error.code).toBe(code);
    expect({ 400: "bad_query", 422: "invalid" }[status]).toBe(code);
  });

  it("says which params are required, as the cloud does", () => {
    expect(unwrapErr(parseMetricQuery(q("set=storage"), STREAM_METRIC_SETS))).toEqual({ code: "invalid", message: "start and end params required" });
  });
});

describe("metricRange", () => {
  const query = (set: string, interval?: "minute" | "hour" | "day") =>
    ({ set, startSecs: NOW_SECS - 3600, endSecs: NOW_SECS, ...(interval ? { interval } : {}) });

  it("serves accumulations at the asked interval, hour by default", () => {
    expect(unwrap(metricRange("basin", query("append-ops"), NOW_MS)).interval).toBe("hour");
    expect(unwrap(metricRange("basin", query("append-ops", "minute"), NOW_MS)).interval).toBe("minute");
    expect(unwrap(metricRange("account", query("account-ops", "day"), NOW_MS)).interval).toBe("day");
  });

  it("serves basin storage by the hour and stream storage by the minute only", () => {
    expect(unwrap(metricRange("basin", query("storage"), NOW_MS)).interval).toBe("hour");
    expect(unwrap(metricRange("stream", query("storage"), NOW_MS)).interval).toBe("minute");
    expect(unwrapErr(metricRange("basin", query("storage", "minute"), NOW_MS)).code).toBe("invalid");
    expect(unwrapErr(metricRange("stream", query("storage", "hour"), NOW_MS)).code).toBe("invalid");
  });

  it("checks the window", () => {
    expect(unwrapErr(metricRange("basin", { set: "read-ops", startSecs: NOW_SECS, endSecs: NOW_SECS - 1 }, NOW_MS)).code).toBe("invalid");
    expect(unwrapErr(metricRange("basin", { set: "read-ops", startSecs: NOW_SECS - 40 * 86400, endSecs: NOW_SECS }, NOW_MS)).code).toBe("invalid");
  });
});

describe("metric sets", () => {
  const range: UsageRange = { startSecs: NOW_SECS - 3600, endSecs: NOW_SECS, interval: "hour" };
  const buckets = [{
    atSecs: 1_700_000_000,
    counters: { "append_ops.express": 2, "append_bytes.express": 30, "append_ops.standard": 1, "read_ops.unary": 4, read_bytes: 99, "create-stream": 3 },
  }];

  it("answers append-ops, append-throughput and read-ops with two accumulations each", () => {
    const appendOps = basinMetricSet("append-ops", range, { buckets, storage: [] });
    expect(appendOps).toEqual([
      { kind: "accumulation", name: "append_ops_standard", unit: "operations", interval: "hour", values: [[1_700_000_000, 1]] },
      { kind: "accumulation", name: "append_ops_express", unit: "operations", interval: "hour", values: [[1_700_000_000, 2]] },
    ]);
    expect(basinMetricSet("append-throughput", range, { buckets, storage: [] }).map((m) => m.kind === "accumulation" && m.unit)).toEqual(["bytes", "bytes"]);
    const readOps = basinMetricSet("read-ops", range, { buckets, storage: [] });
    expect(readOps.map((m) => m.name)).toEqual(["read_ops_streaming", "read_ops_unary"]);
    expect(readOps[0]).toMatchObject({ values: [] });
    expect(basinMetricSet("read-throughput", range, { buckets, storage: [] })).toEqual([
      { kind: "accumulation", name: "read_bytes", unit: "bytes", interval: "hour", values: [[1_700_000_000, 99]] },
    ]);
  });

  it("answers storage with one gauge in bytes", () => {
    expect(basinMetricSet("storage", range, { buckets: [], storage: [[1_700_000_000, 512]] }))
      .toEqual([{ kind: "gauge", name: "storage", unit: "bytes", values: [[1_700_000_000, 512]] }]);
    expect(streamMetricSet("storage", { before: null, points: [] })).toEqual([{ kind: "gauge", name: "storage", unit: "bytes", values: [] }]);
  });

  it("answers basin-ops and account-ops with one accumulation per operation, even without points", () => {
    const basinOps = basinMetricSet("basin-ops", range, { buckets, storage: [] });
    expect(basinOps.map((m) => m.name)).toEqual([...BASIN_OPS]);
    expect(basinOps.find((m) => m.name === "create-stream")).toMatchObject({ values: [[1_700_000_000, 3]] });
    expect(accountMetricSet("account-ops", range, { basins: [], buckets: [] }).map((m) => m.name)).toEqual([...ACCOUNT_OPS]);
  });

  it("answers active-basins with one label", () => {
    expect(accountMetricSet("active-basins", range, { basins: ["a-basin-01"], buckets: [] }))
      .toEqual([{ kind: "label", name: "active_basins", values: ["a-basin-01"] }]);
  });

  it("renders each metric externally tagged (openapi MetricSetResponse)", () => {
    expect(renderMetricSet([
      { kind: "scalar", name: "s", unit: "bytes", value: 1.5 },
      { kind: "accumulation", name: "a", unit: "operations", interval: "minute", values: [[60, 2]] },
      { kind: "gauge", name: "g", unit: "bytes", values: [[120, 3]] },
      { kind: "label", name: "l", values: ["x"] },
    ])).toEqual({
      values: [
        { scalar: { name: "s", unit: "bytes", value: 1.5 } },
        { accumulation: { name: "a", unit: "operations", interval: "minute", values: [[60, 2]] } },
        { gauge: { name: "g", unit: "bytes", values: [[120, 3]] } },
        { label: { name: "l", values: ["x"] } },
      ],
    });
  });
});
