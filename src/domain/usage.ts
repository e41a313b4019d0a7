/**
 * Usage accounting, pure: named counters per UTC minute, and the time arithmetic of S2's usage metrics API
 * (S2-API §6.3): ranges, intervals, buckets and gauges. Durable Objects keep the current minute in a
 * MinuteMeter and store each finished minute once (storage/usage-ledger.ts); queries bucket those minutes here.
 *
 * Time on the wire is Unix seconds (u32); a minute is named by its first second, a bucket by the first second
 * of its interval (UTC-aligned: minutes, hours, days since the epoch).
 */
import { invalid, type StreamError } from "./errors";
import { meteredBytes } from "./metering";
import type { StorageClass } from "./config";
import type { AppendPayload } from "./lifecycle";
import type { Header } from "./types";
import { err, ok, type Result } from "../lib/result";

export const MINUTE_SECS = 60;
export const MINUTE_MS = MINUTE_SECS * 1000;

/** TimeseriesInterval (openapi): the width of one accumulation or gauge bucket. */
export const USAGE_INTERVALS = ["minute", "hour", "day"] as const;
export type UsageInterval = (typeof USAGE_INTERVALS)[number];

export const INTERVAL_SECS: Readonly<Record<UsageInterval, number>> = { minute: 60, hour: 3600, day: 86400 };

/** The longest range one query may span (S2-API §6.3, cloud: "range > 30 days → 422"). */
export const USAGE_RANGE_SECS_MAX = 30 * 86400;

/** How far past the server's clock `end` may lie: client clocks drift, but "the future" is refused. */
export const USAGE_END_SKEW_SECS = 60;

/** Finished minutes are kept this long: a 30-day range plus a day's slack for carrying gauges forward. */
export const USAGE_RETENTION_SECS = USAGE_RANGE_SECS_MAX + 86400;

/**
 * Streams one basin-wide metrics query or scrape reaches (the first in name order). Each is one RPC from the
 * basin's object, which must stay well inside an invocation's subrequest limit (1000 on the paid plan), and
 * wakes that stream's object.
 */
export const BASIN_FANOUT_STREAMS_MAX = 500;

/** Counts by name; an absent name counts zero. Names are a meter's own (`append_ops.express`, `create-stream`). */
export type Counters = Record<string, number>;

/** One minute of usage. `storageBytes` is a gauge sampled when the minute was stored; null where none was. */
export interface MinuteUsage {
  minuteSecs: number;
  counters: Counters;
  storageBytes: number | null;
}

/** [bucket start in Unix seconds, value]: a point of an accumulation or a gauge (openapi `values`). */
export type SeriesPoint = [atSecs: number, value: number];

/** Accumulated counters of one bucket. */
export interface UsageBucket {
  atSecs: number;
  counters: Counters;
}

/** A validated query window: `[startSecs, endSecs]`, cut into `interval` buckets. */
export interface UsageRange {
  startSecs: number;
  endSecs: number;
  interval: UsageInterval;
}

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_SECS;

export const bucketOf = (secs: number, interval: UsageInterval): number => secs - (secs % INTERVAL_SECS[interval]);

/** The minute `[m, m + 60)` overlaps the range (both ends inclusive, as a query's `start` and `end` are). */
export const minuteInRange = (minuteSecs: number, range: UsageRange): boolean =>
  minuteSecs <= range.endSecs && minuteSecs + MINUTE_SECS > range.startSecs;

/** Adds `delta` into `into` (mutating it) and returns it. */
export function addCounters(into: Counters, delta: Counters): Counters {
  for (const [name, value] of Object.entries(delta)) {
    if (value !== 0) into[name] = (into[name] ?? 0) + value;
  }
  return into;
}

/**
 * The current minute's counters, in memory. `add` returns the previous minute when time moved past it, for
 * the caller to store; a minute is thus written at most once, when it is over.
 */
export class MinuteMeter {
  #current: { minuteSecs: number; counters: Counters } | undefined;

  /** Adds to the minute of `nowMs`; returns the finished minute it replaced, if any (never an empty one). */
  add(nowMs: number, delta: Counters): MinuteUsage | undefined {
    const minuteSecs = minuteOf(nowMs);
    // A clock that steps back (another machine after a restart) counts into the minute held: never lost.
    const finished = this.#current && minuteSecs > this.#current.minuteSecs ? this.take() : undefined;
    this.#current ??= { minuteSecs, counters: {} };
    addCounters(this.#current.counters, delta);
    return finished;
  }

  /** The held minute if it is over by `nowMs`, removed; undefined otherwise. */
  takeFinished(nowMs: number): MinuteUsage | undefined {
    return this.#current && minuteOf(nowMs) > this.#current.minuteSecs ? this.take() : undefined;
  }

  /** The held minute, removed. */
  take(): MinuteUsage | undefined {
    const current = this.#current;
    this.#current = undefined;
    return current && { minuteSecs: current.minuteSecs, counters: current.counters, storageBytes: null };
  }

  /** The held minute (a copy), not removed. */
  peek(): MinuteUsage | undefined {
    return this.#current && { minuteSecs: this.#current.minuteSecs, counters: { ...this.#current.counters }, storageBytes: null };
  }

  /** When the held minute ends (ms); null when nothing is held. */
  dueMs(): number | null {
    return this.#current ? (this.#current.minuteSecs + MINUTE_SECS) * 1000 : null;
  }
}

/**
 * Checks a query window (S2-API §6.3): start ≤ end, end not in the future, at most 30 days. Missing values
 * are the parser's concern ("start and end params required").
 */
export function checkUsageWindow(startSecs: number, endSecs: number, nowMs: number): Result<void, StreamError> {
  if (startSecs > endSecs) return err(invalid("start must not be after end"));
  if (endSecs > Math.floor(nowMs / 1000) + USAGE_END_SKEW_SECS) return err(invalid("end must not be in the future"));
  if (endSecs - startSecs > USAGE_RANGE_SECS_MAX) return err(invalid("time range must not exceed 30 days"));
  return ok(undefined);
}

/** Sums the minutes that overlap the range into its buckets; only buckets with a non-zero count, in time order. */
export function bucketUsage(minutes: Iterable<MinuteUsage>, range: UsageRange): UsageBucket[] {
  const buckets = new Map<number, Counters>();
  for (const minute of minutes) {
    if (!minuteInRange(minute.minuteSecs, range)) continue;
    const atSecs = bucketOf(minute.minuteSecs, range.interval);
    addCounters(counterAt(buckets, atSecs), minute.counters);
  }
  return [...buckets].filter(([, counters]) => Object.keys(counters).length > 0)
    .sort(([a], [b]) => a - b).map(([atSecs, counters]) => ({ atSecs, counters }));
}

/** Sums bucket lists from several sources (the streams of a basin) by bucket, in time order. */
export function mergeBuckets(lists: Iterable<readonly UsageBucket[]>): UsageBucket[] {
  const merged = new Map<number, Counters>();
  for (const list of lists) {
    for (const bucket of list) addCounters(counterAt(merged, bucket.atSecs), bucket.counters);
  }
  return [...merged].sort(([a], [b]) => a - b).map(([atSecs, counters]) => ({ atSecs, counters }));
}

function counterAt(buckets: Map<number, Counters>, atSecs: number): Counters {
  let counters = buckets.get(atSecs);
  if (!counters) buckets.set(atSecs, (counters = {}));
  return counters;
}

/** One counter of the buckets as an accumulation series (buckets without it are left out). */
export function counterSeries(buckets: readonly UsageBucket[], ...names: string[]): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const bucket of buckets) {
    const value = names.reduce((sum, name) => sum + (bucket.counters[name] ?? 0), 0);
    if (value !== 0) points.push([bucket.atSecs, value]);
  }
  return points;
}

/** Gauge samples (minute, value) in the range: the last sample of each bucket, in time order. */
export function bucketGauge(samples: Iterable<{ minuteSecs: number; value: number }>, range: UsageRange): SeriesPoint[] {
  const last = new Map<number, { minuteSecs: number; value: number }>();
  for (const sample of samples) {
    if (!minuteInRange(sample.minuteSecs, range)) continue;
    const atSecs = bucketOf(sample.minuteSecs, range.interval);
    const held = last.get(atSecs);
    if (!held || held.minuteSecs <= sample.minuteSecs) last.set(atSecs, sample);
  }
  return [...last].sort(([a], [b]) => a - b).map(([atSecs, sample]) => [atSecs, sample.value]);
}

/** A gauge of one source: its bucketed points, and its last value before the range (null: unknown). */
export interface GaugeSeries {
  before: number | null;
  points: SeriesPoint[];
}

/**
 * The sum of several step-function gauges (a basin's streams): each source holds its last known value until
 * its next point. A bucket gets a point once any source has a value at or before it.
 */
export function sumGauges(series: readonly GaugeSeries[], range: UsageRange): SeriesPoint[] {
  const width = INTERVAL_SECS[range.interval];
  const cursors = series.map((s) => ({ value: s.before, points: s.points, next: 0 }));
  const out: SeriesPoint[] = [];
  for (let at = bucketOf(range.startSecs, range.interval); at <= range.endSecs; at += width) {
    let total = 0;
    let known = false;
    for (const cursor of cursors) {
      while (cursor.next < cursor.points.length && cursor.points[cursor.next]![0] <= at) cursor.value = cursor.points[cursor.next++]![1];
      if (cursor.value !== null) {
        total += cursor.value;
        known = true;
      }
    }
    if (known) out.push([at, total]);
  }
  return out;
}

// What the objects count. Names are persisted in usage rows: never rename one.

export type ReadKind = "unary" | "streaming";

export const STREAM_COUNTER = {
  appendOps: (storageClass: StorageClass) => `append_ops.${storageClass}`,
  appendBytes: (storageClass: StorageClass) => `append_bytes.${storageClass}`,
  appendRecords: "append_records",
  readOps: (kind: ReadKind) => `read_ops.${kind}`,
  readBytes: "read_bytes",
  readRecords: "read_records",
} as const;

type MeteredRecord = { headers: readonly Header[]; body: Uint8Array };

const meteredTotal = (records: readonly MeteredRecord[]) => records.reduce((sum, record) => sum + meteredBytes(record), 0);

/** One append of these records, metered (S2-API §8.3), under the stream's storage class at the time. */
export function appendCounters(storageClass: StorageClass, records: readonly MeteredRecord[]): Counters {
  return appendCountersOf(storageClass, records.length, meteredTotal(records));
}

export function appendCountersOf(storageClass: StorageClass, records: number, bytes: number): Counters {
  return { [STREAM_COUNTER.appendOps(storageClass)]: 1, [STREAM_COUNTER.appendBytes(storageClass)]: bytes, [STREAM_COUNTER.appendRecords]: records };
}

/**
 * Records delivered to readers. `ops` is 1 for the first read of a request or session and 0 for its
 * continuations and live deliveries; `copies` counts the readers one live batch went to.
 */
export function readCounters(kind: ReadKind, ops: number, records: readonly MeteredRecord[], copies = 1): Counters {
  return {
    [STREAM_COUNTER.readOps(kind)]: ops,
    [STREAM_COUNTER.readRecords]: records.length * copies,
    [STREAM_COUNTER.readBytes]: meteredTotal(records) * copies,
  };
}

/** Metered bytes of a Durable Streams append of `records` records: no headers, so 8 bytes each plus the bodies. */
export function guardedAppendBytes(payload: AppendPayload, records: number): number {
  if (records === 0) return 0;
  const messages = payload.messages?.ok ? payload.messages.value : undefined;
  const bodies = messages && messages.length === records ? messages.reduce((sum, m) => sum + m.length, 0) : payload.bytes.length;
  return 8 * records + bodies;
}

/** How many records a Durable Streams append body makes: its JSON messages, or one record of raw bytes. */
export function guardedAppendRecords(payload: AppendPayload): number {
  if (payload.bytes.length === 0) return 0;
  return payload.messages?.ok ? payload.messages.value.length : 1;
}
