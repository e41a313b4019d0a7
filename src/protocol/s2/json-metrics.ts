/**
 * The S2 usage metrics API on the wire (S2-API §6.3, openapi `/metrics*`): the query string in, the
 * `MetricSetResponse` JSON out. Errors, as the cloud answers them (S2-API §6.3, the Go SDK's matrix):
 *
 *   set missing                               400 bad_query
 *   set, interval not one of their values     422 invalid
 *   start or end missing                      422 invalid  "start and end params required"
 *   start or end not a u32                    400 bad_query
 *   start > end, end in the future, > 30 days 422 invalid  (domain/usage.ts checkUsageWindow)
 *
 * Response, each metric externally tagged, timestamps in Unix seconds:
 *
 *   {"values": [{"accumulation": {"name", "unit", "interval", "values": [[ts, n], …]}}
 *             | {"gauge": {"name", "unit", "values": [[ts, n], …]}}
 *             | {"label": {"name", "values": ["…"]}}
 *             | {"scalar": {"name", "unit", "value": n}}, …]}
 */
import { invalid, streamError, type StreamError } from "../../domain/errors";
import type { Metric, MetricQuery } from "../../domain/metric-sets";
import { USAGE_INTERVALS, type UsageInterval } from "../../domain/usage";
import { err, ok, type Result } from "../../lib/result";

const DIGITS = /^[0-9]+$/;
const U32_MAX = 0xffff_ffff;

function oneOf<T extends string>(values: readonly T[], name: string, text: string): Result<T, StreamError> {
  return (values as readonly string[]).includes(text)
    ? ok(text as T)
    : err(invalid(`${name}: expected one of ${values.join(", ")}`));
}

function u32(name: string, text: string): Result<number, StreamError> {
  if (!DIGITS.test(text) || Number(text) > U32_MAX) return err(streamError("bad_query", `${name}: expected Unix seconds (u32)`));
  return ok(Number(text));
}

/** The query of a metrics call whose level answers these sets. */
export function parseMetricQuery<S extends string>(params: URLSearchParams, sets: readonly S[]): Result<MetricQuery<S>, StreamError> {
  const setText = params.get("set");
  if (setText === null) return err(streamError("bad_query", "missing query parameter `set`"));
  const set = oneOf(sets, "set", setText);
  if (!set.ok) return set;
  const startText = params.get("start");
  const endText = params.get("end");
  if (startText === null || endText === null) return err(invalid("start and end params required"));
  const start = u32("start", startText);
  if (!start.ok) return start;
  const end = u32("end", endText);
  if (!end.ok) return end;
  const query: MetricQuery<S> = { set: set.value, startSecs: start.value, endSecs: end.value };
  const intervalText = params.get("interval");
  if (intervalText !== null) {
    const interval = oneOf<UsageInterval>(USAGE_INTERVALS, "interval", intervalText);
    if (!interval.ok) return interval;
    query.interval = interval.value;
  }
  return ok(query);
}

export function renderMetric(metric: Metric): unknown {
  switch (metric.kind) {
    case "scalar":
      return { scalar: { name: metric.name, unit: metric.unit, value: metric.value } };
    case "accumulation":
      return { accumulation: { name: metric.name, unit: metric.unit, interval: metric.interval, values: metric.values } };
    case "gauge":
      return { gauge: { name: metric.name, unit: metric.unit, values: metric.values } };
    case "label":
      return { label: { name: metric.name, values: metric.values } };
  }
}

/** openapi `MetricSetResponse`. */
export const renderMetricSet = (metrics: readonly Metric[]) => ({ values: metrics.map(renderMetric) });
