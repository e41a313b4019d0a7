import { describe, expect, it } from "vitest";
import { BatchCollector, canFollow, capUnaryRequest, checkReadRequest, ReadBudget, resolveReadStart } from "../../src/domain/read";
import type { ReadLimits, ReadRequest, ReadStart, SequencedRecord, StreamPosition } from "../../src/domain/types";
import { utf8 } from "../../src/lib/bytes";
import { unwrap, unwrapErr } from "./support";

const MIB = 1024 * 1024;
const TAIL: StreamPosition = { seqNum: 10, timestamp: 5000 };
const request = (start: ReadStart, over: Partial<ReadRequest> = {}): ReadRequest => ({
  start,
  limits: {},
  clamp: false,
  waitSecs: 0,
  ...over,
});
const seq = (seqNum: number): ReadStart => ({ kind: "seq_num", seqNum });
const ts = (timestamp: number): ReadStart => ({ kind: "timestamp", timestamp });
const offset = (tailOffset: number): ReadStart => ({ kind: "tail_offset", tailOffset });
/** Cannot follow: an explicit bound and no wait. */
const bounded: Partial<ReadRequest> = { limits: { count: 5 } };
const unwritten = (tail: StreamPosition) => ({ code: "unwritten", tail });

describe("resolveReadStart: seq_num (S2-API §10.2)", () => {
  it("starts at a seq num below the tail", () => {
    expect(unwrap(resolveReadStart(request(seq(0), bounded), TAIL))).toEqual({ kind: "seq_num", seqNum: 0 });
    expect(unwrap(resolveReadStart(request(seq(9), bounded), TAIL))).toEqual({ kind: "seq_num", seqNum: 9 });
  });

  it("is 416 beyond the tail without clamp, even when it could follow", () => {
    expect(unwrapErr(resolveReadStart(request(seq(11), bounded), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrapErr(resolveReadStart(request(seq(11), { waitSecs: 5 }), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrapErr(resolveReadStart(request(seq(11)), TAIL))).toEqual(unwritten(TAIL));
  });

  it("is 416 exactly at the tail when the read cannot follow", () => {
    expect(unwrapErr(resolveReadStart(request(seq(10), bounded), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrapErr(resolveReadStart(request(seq(10), { limits: { until: 1 } }), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrapErr(resolveReadStart(request(seq(10), { limits: { bytes: 100 } }), TAIL))).toEqual(unwritten(TAIL));
  });

  it("starts at the tail when the read can follow", () => {
    expect(unwrap(resolveReadStart(request(seq(10)), TAIL))).toEqual({ kind: "seq_num", seqNum: 10 });
    expect(unwrap(resolveReadStart(request(seq(10), { ...bounded, waitSecs: 1 }), TAIL))).toEqual({ kind: "seq_num", seqNum: 10 });
  });

  it("clamps a start beyond the tail to the tail", () => {
    expect(unwrap(resolveReadStart(request(seq(99), { clamp: true, waitSecs: 1 }), TAIL))).toEqual({ kind: "seq_num", seqNum: 10 });
    expect(unwrap(resolveReadStart(request(seq(3), { clamp: true, ...bounded }), TAIL))).toEqual({ kind: "seq_num", seqNum: 3 });
  });

  it("clamp alone does not avoid 416 when the read cannot follow", () => {
    expect(unwrapErr(resolveReadStart(request(seq(99), { clamp: true, ...bounded }), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrapErr(resolveReadStart(request(seq(10), { clamp: true, ...bounded }), TAIL))).toEqual(unwritten(TAIL));
  });

  it("is 416 reading an empty stream from 0 without wait", () => {
    const empty = { seqNum: 0, timestamp: 0 };
    expect(unwrapErr(resolveReadStart(request(seq(0), bounded), empty))).toEqual(unwritten(empty));
  });
});

describe("resolveReadStart: timestamp", () => {
  it("resolves timestamps up to the tail's to a storage lookup", () => {
    expect(unwrap(resolveReadStart(request(ts(0), bounded), TAIL))).toEqual({ kind: "timestamp", timestamp: 0 });
    expect(unwrap(resolveReadStart(request(ts(5000), bounded), TAIL))).toEqual({ kind: "timestamp", timestamp: 5000 });
  });

  it("is 416 beyond the tail's timestamp without clamp", () => {
    expect(unwrapErr(resolveReadStart(request(ts(5001), bounded), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrapErr(resolveReadStart(request(ts(5001), { waitSecs: 10 }), TAIL))).toEqual(unwritten(TAIL));
  });

  it("clamps a timestamp beyond the tail to the tail seq num, then applies the at-tail rule", () => {
    expect(unwrap(resolveReadStart(request(ts(9999), { clamp: true, waitSecs: 1 }), TAIL))).toEqual({ kind: "seq_num", seqNum: 10 });
    expect(unwrap(resolveReadStart(request(ts(9999), { clamp: true }), TAIL))).toEqual({ kind: "seq_num", seqNum: 10 });
    expect(unwrapErr(resolveReadStart(request(ts(9999), { clamp: true, ...bounded }), TAIL))).toEqual(unwritten(TAIL));
  });
});

describe("resolveReadStart: tail_offset", () => {
  it("starts tail_offset records before the tail", () => {
    expect(unwrap(resolveReadStart(request(offset(3), bounded), TAIL))).toEqual({ kind: "seq_num", seqNum: 7 });
    expect(unwrap(resolveReadStart(request(offset(10), bounded), TAIL))).toEqual({ kind: "seq_num", seqNum: 0 });
  });

  it("saturates at 0", () => {
    expect(unwrap(resolveReadStart(request(offset(1000), bounded), TAIL))).toEqual({ kind: "seq_num", seqNum: 0 });
    expect(unwrap(resolveReadStart(request(offset(Number.MAX_SAFE_INTEGER), bounded), TAIL))).toEqual({ kind: "seq_num", seqNum: 0 });
  });

  it("tail_offset 0 is at the tail: 416 unless the read can follow", () => {
    expect(unwrapErr(resolveReadStart(request(offset(0), bounded), TAIL))).toEqual(unwritten(TAIL));
    expect(unwrap(resolveReadStart(request(offset(0), { waitSecs: 2 }), TAIL))).toEqual({ kind: "seq_num", seqNum: 10 });
  });
});

describe("canFollow", () => {
  it("is true when unbounded or waiting", () => {
    expect(canFollow(request(seq(0)))).toBe(true);
    expect(canFollow(request(seq(0), { limits: { count: 1, bytes: 1, until: 1 }, waitSecs: 1 }))).toBe(true);
  });

  it("is false with any bound and no wait", () => {
    for (const limits of [{ count: 0 }, { count: 5 }, { bytes: 10 }, { until: 100 }] as ReadLimits[]) {
      expect(canFollow(request(seq(0), { limits })), JSON.stringify(limits)).toBe(false);
    }
  });

  it("treats an absent wait as no wait", () => {
    expect(canFollow({ start: seq(0), limits: { count: 1 }, clamp: false })).toBe(false);
    expect(canFollow({ start: seq(0), limits: {}, clamp: false })).toBe(true);
    expect(capUnaryRequest({ start: seq(0), limits: {}, clamp: false }).waitSecs).toBe(0);
  });

  it("is false for any capped unary read without wait", () => {
    expect(canFollow(capUnaryRequest(request(seq(0))))).toBe(false);
    expect(canFollow(capUnaryRequest(request(seq(0), { waitSecs: 1 })))).toBe(true);
  });
});

describe("capUnaryRequest (S2-API §10.3)", () => {
  it("fills in 1000 records and 1 MiB when absent", () => {
    expect(capUnaryRequest(request(seq(0))).limits).toEqual({ count: 1000, bytes: MIB });
  });

  it("clamps larger values and keeps smaller ones, including 0", () => {
    expect(capUnaryRequest(request(seq(0), { limits: { count: 5000, bytes: 10 * MIB } })).limits).toEqual({ count: 1000, bytes: MIB });
    expect(capUnaryRequest(request(seq(0), { limits: { count: 0, bytes: 0, until: 7 } })).limits).toEqual({ count: 0, bytes: 0, until: 7 });
  });

  it("clamps wait to 60 s and keeps the rest", () => {
    const capped = capUnaryRequest(request(seq(4), { waitSecs: 3600, clamp: true }));
    expect(capped.waitSecs).toBe(60);
    expect(capped.start).toEqual(seq(4));
    expect(capped.clamp).toBe(true);
    expect(capUnaryRequest(request(seq(0), { waitSecs: 59 })).waitSecs).toBe(59);
  });
});

describe("checkReadRequest (S2-API §10.1)", () => {
  it("rejects a timestamp start at or after until", () => {
    expect(unwrapErr(checkReadRequest(request(ts(100), { limits: { until: 100 } }))).code).toBe("invalid");
    expect(unwrapErr(checkReadRequest(request(ts(101), { limits: { until: 100 } }))).code).toBe("invalid");
  });

  it("accepts a timestamp before until and other starts regardless of until", () => {
    expect(checkReadRequest(request(ts(99), { limits: { until: 100 } })).ok).toBe(true);
    expect(checkReadRequest(request(ts(100))).ok).toBe(true);
    expect(checkReadRequest(request(seq(500), { limits: { until: 100 } })).ok).toBe(true);
  });
});

describe("ReadBudget", () => {
  const rec = (seqNum: number, bodyBytes = 2, timestamp = seqNum): SequencedRecord => ({
    seqNum,
    timestamp,
    headers: [],
    body: new Uint8Array(bodyBytes),
  });
  const admitted = (budget: ReadBudget, records: SequencedRecord[]) => records.filter((r) => budget.admit(r)).length;

  it("admits everything when unbounded", () => {
    const budget = new ReadBudget({});
    expect(admitted(budget, [rec(0), rec(1), rec(2, MIB)])).toBe(3);
    expect(budget.exhausted).toBe(false);
  });

  it("count=0 admits nothing", () => {
    const budget = new ReadBudget({ count: 0 });
    expect(budget.admit(rec(0))).toBe(false);
    expect(budget.exhausted).toBe(true);
  });

  it("stops after count records", () => {
    const budget = new ReadBudget({ count: 2 });
    expect(admitted(budget, [rec(0), rec(1), rec(2), rec(3)])).toBe(2);
    expect(budget.exhausted).toBe(true);
  });

  it("bytes=0 and bytes smaller than the first record admit nothing", () => {
    expect(new ReadBudget({ bytes: 0 }).admit(rec(0, 0))).toBe(false);
    const budget = new ReadBudget({ bytes: 9 });
    expect(budget.admit(rec(0, 2))).toBe(false); // 10 metered bytes
    expect(budget.admit(rec(1, 0))).toBe(false); // would fit, but the budget ended at the first miss
  });

  it("admits whole records up to the byte budget exactly", () => {
    const budget = new ReadBudget({ bytes: 30 });
    expect(admitted(budget, [rec(0, 2), rec(1, 2), rec(2, 2), rec(3, 0)])).toBe(3);
    const tight = new ReadBudget({ bytes: 29 });
    expect(admitted(tight, [rec(0, 2), rec(1, 2), rec(2, 2)])).toBe(2);
  });

  it("counts headers in the byte budget", () => {
    const withHeader: SequencedRecord = { seqNum: 0, timestamp: 0, headers: [[utf8("ab"), utf8("c")]], body: new Uint8Array() };
    expect(new ReadBudget({ bytes: 13 }).admit(withHeader)).toBe(true);
    expect(new ReadBudget({ bytes: 12 }).admit(withHeader)).toBe(false);
  });

  it("until is exclusive", () => {
    const budget = new ReadBudget({ until: 20 });
    expect(budget.admit(rec(0, 0, 10))).toBe(true);
    expect(budget.admit(rec(1, 0, 19))).toBe(true);
    expect(budget.admit(rec(2, 0, 20))).toBe(false);
    expect(budget.exhausted).toBe(true);
    expect(new ReadBudget({ until: 0 }).admit(rec(0, 0, 0))).toBe(false);
  });

  it("is exhausted once the count is used up or no record (≥ 8 bytes) can fit", () => {
    const byCount = new ReadBudget({ count: 2 });
    expect(admitted(byCount, [rec(0), rec(1)])).toBe(2);
    expect(byCount.exhausted).toBe(true);
    const byBytes = new ReadBudget({ bytes: 27 });
    expect(admitted(byBytes, [rec(0, 2), rec(1, 2)])).toBe(2); // 20 used, 7 left
    expect(byBytes.exhausted).toBe(true);
    const notYet = new ReadBudget({ bytes: 28 });
    expect(admitted(notYet, [rec(0, 2), rec(1, 2)])).toBe(2); // 8 left: an empty record still fits
    expect(notYet.exhausted).toBe(false);
    expect(new ReadBudget({ count: 0 }).exhausted).toBe(true);
  });

  it("reports what is used and what remains", () => {
    const budget = new ReadBudget({ count: 5, bytes: 100, until: 50 });
    admitted(budget, [rec(0, 2), rec(1, 0)]);
    expect(budget.used).toEqual({ count: 2, bytes: 18 });
    expect(budget.remaining()).toEqual({ count: 3, bytes: 82, until: 50 });
    expect(new ReadBudget({}).remaining()).toEqual({});
  });

  it("carries the budget across batches", () => {
    const budget = new ReadBudget({ count: 3, bytes: 1000 });
    expect(admitted(budget, [rec(0), rec(1)])).toBe(2);
    expect(budget.exhausted).toBe(false);
    expect(admitted(budget, [rec(2), rec(3)])).toBe(1);
    expect(budget.exhausted).toBe(true);
  });
});

describe("BatchCollector: room and completion before fetching", () => {
  const rec = (seqNum: number, bodyBytes = 2): SequencedRecord => ({ seqNum, timestamp: seqNum, headers: [], body: new Uint8Array(bodyBytes) });

  it("room is the smaller of what the batch and the budget still take", () => {
    const collector = new BatchCollector(0, new ReadBudget({ count: 5, bytes: 1000 }), { records: 3, bytes: 60 });
    expect(collector.room).toEqual({ records: 3, bytes: 60 });
    collector.offer([rec(0, 2)]);
    expect(collector.room).toEqual({ records: 2, bytes: 50 });
    expect(new BatchCollector(0, new ReadBudget({}), { records: 1000, bytes: MIB }).room).toEqual({ records: 1000, bytes: MIB });
  });

  it("completes a batch that cannot take another record without offering one", () => {
    const full = new BatchCollector(0, new ReadBudget({}), { records: 2, bytes: MIB });
    full.offer([rec(0), rec(1)]);
    expect(full.end).toBeUndefined();
    full.completeIfFull();
    expect(full.end).toBe("batch_full");

    const spent = new BatchCollector(0, new ReadBudget({ count: 2 }), { records: 1000, bytes: MIB });
    spent.offer([rec(0), rec(1)]);
    spent.completeIfFull();
    expect(spent.end).toBe("limit");

    const likelyTooBig = new BatchCollector(0, new ReadBudget({}), { records: 1000, bytes: 100 });
    likelyTooBig.completeIfFull(200);
    expect(likelyTooBig.end, "the first record is always tried").toBeUndefined();
    likelyTooBig.offer([rec(0, 50)]);
    likelyTooBig.completeIfFull(30);
    expect(likelyTooBig.end).toBeUndefined();
    likelyTooBig.completeIfFull(50);
    expect(likelyTooBig.end).toBe("batch_full");

    const open = new BatchCollector(0, new ReadBudget({ count: 3 }), { records: 1000, bytes: MIB });
    open.offer([rec(0), rec(1)]);
    open.completeIfFull();
    expect(open.end).toBeUndefined();
  });
});
