// Usage accounting (domain/usage.ts): the minute meter, range checks, bucketing, gauges, what an append
// and a read count.
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendCounters, bucketGauge, bucketUsage, checkUsageWindow, counterSeries, guardedAppendBytes, guardedAppendRecords,
  mergeBuckets, MinuteMeter, minuteInRange, readCounters, sumGauges, USAGE_RANGE_SECS_MAX, type MinuteUsage, type UsageBucket, type UsageRange,
} from "../../src/domain/usage";
import { ok } from "../../src/lib/result";
import { header, record, unwrapErr } from "./support";
import { utf8 } from "../../src/lib/bytes";

const T0 = 1_700_000_040; // a minute boundary (divisible by 60)
const ms = (secs: number) => secs * 1000;
const minute = (minuteSecs: number, counters: Record<string, number>, storageBytes: number | null = null): MinuteUsage =>
  ({ minuteSecs, counters, storageBytes });

describe("MinuteMeter", () => {
  it("holds counts in memory until the minute is over, then hands the minute back once", () => {
    const meter = new MinuteMeter();
    expect(meter.add(ms(T0 + 1), { a: 1 })).toBeUndefined();
    expect(meter.add(ms(T0 + 59), { a: 2, b: 5 })).toBeUndefined();
    expect(meter.dueMs()).toBe(ms(T0 + 60));
    expect(meter.takeFinished(ms(T0 + 59.999))).toBeUndefined();
    const finished = meter.add(ms(T0 + 60), { a: 10 });
    expect(finished).toEqual(minute(T0, { a: 3, b: 5 }));
    expect(meter.peek()).toEqual(minute(T0 + 60, { a: 10 }));
    expect(meter.takeFinished(ms(T0 + 120))).toEqual(minute(T0 + 60, { a: 10 }));
    expect(meter.peek()).toBeUndefined();
    expect(meter.dueMs()).toBeNull();
  });

  it("counts a clock that steps back into the minute it holds, never losing it", () => {
    const meter = new MinuteMeter();
    meter.add(ms(T0 + 70), { a: 1 });
    expect(meter.add(ms(T0 + 30), { a: 1 })).toBeUndefined();
    expect(meter.peek()).toEqual(minute(T0 + 60, { a: 2 }));
  });

  it("drops zero deltas, so an empty minute stores nothing", () => {
    const meter = new MinuteMeter();
    meter.add(ms(T0), { a: 0 });
    expect(meter.peek()).toEqual(minute(T0, {}));
  });

  it("conserves every count across any sequence of minutes (property)", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: 600 }), fc.integer({ min: 1, max: 9 }))), (events) => {
      const meter = new MinuteMeter();
      let stored = 0;
      let clock = ms(T0);
      for (const [advanceSecs, n] of events) {
        clock += advanceSecs * 100;
        stored += meter.add(clock, { n })?.counters.n ?? 0;
      }
      const held = meter.take()?.counters.n ?? 0;
      expect(stored + held).toBe(events.reduce((sum, [, n]) => sum + n, 0));
    }));
  });
});

describe("checkUsageWindow", () => {
  const now = ms(T0);
  it("accepts a window up to 30 days that ends by now (plus a minute of skew)", () => {
    expect(checkUsageWindow(T0 - USAGE_RANGE_SECS_MAX, T0, now)).toEqual(ok(undefined));
    expect(checkUsageWindow(T0, T0 + 60, now)).toEqual(ok(undefined));
    expect(checkUsageWindow(T0, T0, now)).toEqual(ok(undefined));
  });

  it.each([
    ["start after end", T0, T0 - 1, "start must not be after end"],
    ["end in the future", T0 - 3600, T0 + 600, "end must not be in the future"],
    ["more than 30 days", T0 - USAGE_RANGE_SECS_MAX - 1, T0, "time range must not exceed 30 days"],
  ])("refuses %s with 422 invalid", (_name, start, end, message) => {
    expect(unwrapErr(checkUsageWindow(start, end, now))).toEqual({ code: "invalid", message });
  });
});

describe("bucketing", () => {
  const hour: UsageRange = { startSecs: T0 - 7200, endSecs: T0 + 59, interval: "hour" };

  it("sums minutes into UTC-aligned buckets, in order, leaving out minutes outside the range", () => {
    const buckets = bucketUsage([
      minute(T0 - 10800, { a: 100 }), // before the range
      minute(T0 - 120, { a: 1 }),
      minute(T0, { a: 2, b: 1 }),
      minute(T0 - 7200, { a: 4 }),
    ], hour);
    const hourOf = (secs: number) => secs - (secs % 3600);
    expect(buckets.map((b) => b.atSecs)).toEqual([...new Set([hourOf(T0 - 7200), hourOf(T0 - 120), hourOf(T0)])].sort());
    const total = buckets.reduce((sum, b) => sum + (b.counters.a ?? 0), 0);
    expect(total).toBe(7);
  });

  it("includes a minute that overlaps the start, even if it began before it", () => {
    const range: UsageRange = { startSecs: T0 + 30, endSecs: T0 + 30, interval: "minute" };
    expect(minuteInRange(T0, range)).toBe(true);
    expect(minuteInRange(T0 - 60, range)).toBe(false);
    expect(minuteInRange(T0 + 60, range)).toBe(false);
  });

  it("accumulates over day buckets the same totals as over minutes (property)", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: 3 * 1440 }), fc.integer({ min: 1, max: 50 }))), (entries) => {
      const minutes = entries.map(([i, n]) => minute(T0 - 3 * 86400 + i * 60, { n }));
      const range = (interval: UsageRange["interval"]): UsageRange => ({ startSecs: T0 - 3 * 86400, endSecs: T0, interval });
      const total = (buckets: ReturnType<typeof bucketUsage>) => buckets.reduce((sum, b) => sum + (b.counters.n ?? 0), 0);
      expect(total(bucketUsage(minutes, range("day")))).toBe(total(bucketUsage(minutes, range("minute"))));
    }));
  });

  it("merges the buckets of several sources by time", () => {
    const merged = mergeBuckets([[{ atSecs: 60, counters: { a: 1 } }], [{ atSecs: 0, counters: { a: 2 } }, { atSecs: 60, counters: { a: 3, b: 1 } }]]);
    expect(merged).toEqual([{ atSecs: 0, counters: { a: 2 } }, { atSecs: 60, counters: { a: 4, b: 1 } }]);
  });

  it("turns one or more counters into an accumulation series, skipping empty buckets", () => {
    const buckets: UsageBucket[] = [{ atSecs: 0, counters: { x: 1 } }, { atSecs: 60, counters: { y: 2 } }, { atSecs: 120, counters: { x: 3, y: 4 } }];
    expect(counterSeries(buckets, "x")).toEqual([[0, 1], [120, 3]]);
    expect(counterSeries(buckets, "x", "y")).toEqual([[0, 1], [60, 2], [120, 7]]);
  });
});

describe("gauges", () => {
  const range: UsageRange = { startSecs: T0, endSecs: T0 + 3 * 3600, interval: "hour" };

  it("keeps the last sample of each bucket", () => {
    const points = bucketGauge([
      { minuteSecs: T0 + 60, value: 5 }, { minuteSecs: T0 + 600, value: 7 }, { minuteSecs: T0 + 120, value: 6 }, { minuteSecs: T0 - 60, value: 1 },
    ], { ...range, interval: "minute" });
    expect(points).toEqual([[T0 + 60, 5], [T0 + 120, 6], [T0 + 600, 7]]);
    const hourly = bucketGauge([{ minuteSecs: T0 + 60, value: 5 }, { minuteSecs: T0 + 600, value: 7 }], range);
    expect(hourly).toEqual([[T0 - (T0 % 3600), 7]]);
  });

  it("sums sources as step functions, each holding its last value", () => {
    const h = (i: number) => T0 - (T0 % 3600) + i * 3600;
    const summed = sumGauges([
      { before: 10, points: [[h(2), 20]] },
      { before: null, points: [[h(1), 5]] },
    ], range);
    expect(summed).toEqual([[h(0), 10], [h(1), 15], [h(2), 25], [h(3), 25]]);
  });

  it("has no points while no source has a value", () => {
    expect(sumGauges([{ before: null, points: [] }], range)).toEqual([]);
  });
});

describe("what is counted", () => {
  it("an append: one op, its records, its metered bytes, under the stream's storage class", () => {
    const records = [record("hello"), record("", [header("k", "vv")])];
    // 8 + 5, and 8 + 2·1 + 1 + 2 (S2-API §8.3)
    expect(appendCounters("standard", records)).toEqual({ "append_ops.standard": 1, "append_bytes.standard": 13 + 13, append_records: 2 });
  });

  it("a read: ops by kind, records and bytes times the readers a live batch went to", () => {
    expect(readCounters("unary", 1, [record("abc")])).toEqual({ "read_ops.unary": 1, read_records: 1, read_bytes: 11 });
    expect(readCounters("streaming", 0, [record("abc")], 3)).toEqual({ "read_ops.streaming": 0, read_records: 3, read_bytes: 33 });
  });

  it("a Durable Streams append: its JSON messages or one raw record, 8 bytes each plus the bodies", () => {
    const json = { bytes: utf8('[{"a":1},{"b":2}]'), messages: ok([utf8('{"a":1}'), utf8('{"b":2}')]) };
    expect(guardedAppendRecords(json)).toBe(2);
    expect(guardedAppendBytes(json, 2)).toBe(16 + 14);
    const raw = { bytes: utf8("abcdef") };
    expect(guardedAppendRecords(raw)).toBe(1);
    expect(guardedAppendBytes(raw, 1)).toBe(14);
    expect(guardedAppendRecords({ bytes: new Uint8Array() })).toBe(0);
    expect(guardedAppendBytes({ bytes: new Uint8Array() }, 0)).toBe(0);
  });
});
