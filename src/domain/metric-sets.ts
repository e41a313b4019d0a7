/**
 * S2's usage metric sets (S2-API §6.3, openapi `AccountMetricSet` / `BasinMetricSet` / `StreamMetricSet`):
 * which metrics each set answers with, under which names and units, at which interval, built from the
 * bucketed usage the account, basin and stream objects report. Pure; the JSON shape is protocol/s2/json-metrics.ts.
 *
 * Every set always answers with all of its metrics, each possibly without points, so a client sees the same
 * shape whether or not anything happened in the range.
 */
import { invalid, type StreamError } from "./errors";
import type { Operation } from "./access";
import { err, ok, type Result } from "../lib/result";
import {
  checkUsageWindow, counterSeries, STREAM_COUNTER, type GaugeSeries, type SeriesPoint, type UsageBucket, type UsageInterval,
  type UsageRange,
} from "./usage";

export const ACCOUNT_METRIC_SETS = ["active-basins", "account-ops"] as const;
export const BASIN_METRIC_SETS = ["storage", "append-ops", "read-ops", "read-throughput", "append-throughput", "basin-ops"] as const;
export const STREAM_METRIC_SETS = ["storage"] as const;

export type AccountMetricSet = (typeof ACCOUNT_METRIC_SETS)[number];
export type BasinMetricSet = (typeof BASIN_METRIC_SETS)[number];
export type StreamMetricSet = (typeof STREAM_METRIC_SETS)[number];
export type MetricLevel = "account" | "basin" | "stream";

export type MetricUnit = "bytes" | "operations";

/** openapi `Metric`: externally tagged on the wire. */
export type Metric =
  | { kind: "scalar"; name: string; unit: MetricUnit; value: number }
  | { kind: "accumulation"; name: string; unit: MetricUnit; interval: UsageInterval; values: SeriesPoint[] }
  | { kind: "gauge"; name: string; unit: MetricUnit; values: SeriesPoint[] }
  | { kind: "label"; name: string; values: string[] };

/** Operations the AccountObject serves and counts (get-basin-config is a lookup other operations share: not counted). */
export const ACCOUNT_OPS = [
  "list-basins", "create-basin", "delete-basin", "reconfigure-basin",
  "issue-access-token", "revoke-access-token", "list-access-tokens",
] as const satisfies readonly Operation[];

/** Operations a BasinObject serves and counts (get-stream-config goes straight to the stream: not counted). */
export const BASIN_OPS = ["list-streams", "create-stream", "delete-stream", "reconfigure-stream"] as const satisfies readonly Operation[];

/** The query as parsed: `interval` only if the client sent one. */
export interface MetricQuery<S extends string> {
  set: S;
  startSecs: number;
  endSecs: number;
  interval?: UsageInterval;
}

/**
 * The interval a set is served at. Storage is a gauge kept at one resolution per level (cloud: basin storage by
 * the hour, stream storage by the minute; anything else is 422); accumulations take any, hour by default.
 */
function intervalOf(level: MetricLevel, set: string, requested: UsageInterval | undefined): Result<UsageInterval, StreamError> {
  if (set !== "storage") return ok(requested ?? "hour");
  const only: UsageInterval = level === "basin" ? "hour" : "minute";
  if (requested !== undefined && requested !== only) return err(invalid(`${level} storage is only available with interval=${only}`));
  return ok(only);
}

/** The validated window of a query (S2-API §6.3 errors are all `422 invalid`). */
export function metricRange(level: MetricLevel, query: MetricQuery<string>, nowMs: number): Result<UsageRange, StreamError> {
  const window = checkUsageWindow(query.startSecs, query.endSecs, nowMs);
  if (!window.ok) return window;
  const interval = intervalOf(level, query.set, query.interval);
  if (!interval.ok) return interval;
  return ok({ startSecs: query.startSecs, endSecs: query.endSecs, interval: interval.value });
}

const accumulation = (name: string, unit: MetricUnit, range: UsageRange, values: SeriesPoint[]): Metric =>
  ({ kind: "accumulation", name, unit, interval: range.interval, values });

const opsMetrics = (ops: readonly string[], buckets: readonly UsageBucket[], range: UsageRange): Metric[] =>
  ops.map((op) => accumulation(op, "operations", range, counterSeries(buckets, op)));

/** `active-basins`: one label of the basins that existed during the range; `account-ops`: one accumulation per operation. */
export function accountMetricSet(set: AccountMetricSet, range: UsageRange, source: { basins: string[]; buckets: UsageBucket[] }): Metric[] {
  switch (set) {
    case "active-basins":
      return [{ kind: "label", name: "active_basins", values: source.basins }];
    case "account-ops":
      return opsMetrics(ACCOUNT_OPS, source.buckets, range);
  }
}

/** A basin's sets, from its streams' merged usage (`storage` summed over them) or its own operations (`basin-ops`). */
export function basinMetricSet(set: BasinMetricSet, range: UsageRange, source: { buckets: UsageBucket[]; storage: SeriesPoint[] }): Metric[] {
  const { buckets } = source;
  switch (set) {
    case "storage":
      return [{ kind: "gauge", name: "storage", unit: "bytes", values: source.storage }];
    case "append-ops":
      return [
        accumulation("append_ops_standard", "operations", range, counterSeries(buckets, STREAM_COUNTER.appendOps("standard"))),
        accumulation("append_ops_express", "operations", range, counterSeries(buckets, STREAM_COUNTER.appendOps("express"))),
      ];
    case "append-throughput":
      return [
        accumulation("append_bytes_standard", "bytes", range, counterSeries(buckets, STREAM_COUNTER.appendBytes("standard"))),
        accumulation("append_bytes_express", "bytes", range, counterSeries(buckets, STREAM_COUNTER.appendBytes("express"))),
      ];
    case "read-ops":
      return [
        accumulation("read_ops_streaming", "operations", range, counterSeries(buckets, STREAM_COUNTER.readOps("streaming"))),
        accumulation("read_ops_unary", "operations", range, counterSeries(buckets, STREAM_COUNTER.readOps("unary"))),
      ];
    case "read-throughput":
      return [accumulation("read_bytes", "bytes", range, counterSeries(buckets, STREAM_COUNTER.readBytes))];
    case "basin-ops":
      return opsMetrics(BASIN_OPS, buckets, range);
  }
}

/** `storage`: the stream's stored bytes, sampled by the minute. */
export function streamMetricSet(_set: StreamMetricSet, storage: GaugeSeries): Metric[] {
  return [{ kind: "gauge", name: "storage", unit: "bytes", values: storage.points }];
}
