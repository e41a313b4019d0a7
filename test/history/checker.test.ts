// The history checker must catch what it exists to catch: lost, duplicated, reordered, altered and phantom
// records, refused appends that took effect, broken conditions, non-linearizable answers, and readers with
// gaps, duplicates or wrong bytes. Hand-written histories for each case, then a property: histories made by
// a correct model always pass, and any corruption of one is caught.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkHistory } from "./checker";
import {
  fenceRecord, fnv1a, recordDigest, taggedBody, type AppendAttempt, type AppendOutcome, type History, type LogRecord, type ReaderHistory,
  type RecordData,
} from "./model";

const text = (s: string) => new TextEncoder().encode(s);
const recordsOf = (key: string, n: number): RecordData[] =>
  Array.from({ length: n }, (_, i) => ({ headers: [[text("h"), text(`${key}-${i}`)]], body: taggedBody(key, i, text(`payload of ${key}`)) }));

let ids = 0;
function attempt(
  key: string, n: number, [invokedAtMs, completedAtMs]: [number, number], outcome: AppendOutcome,
  extra: { matchSeqNum?: number; fencingToken?: string; records?: RecordData[] } = {},
): AppendAttempt {
  const { records = recordsOf(key, n), ...conditions } = extra;
  return {
    kind: "append", id: `a${++ids}`, key, client: "w", records, invokedAtMs,
    completedAtMs: outcome.type === "unknown" ? Infinity : completedAtMs, outcome, ...conditions,
  };
}

const ok = (start: number, n: number, tail?: number): AppendOutcome => ({ type: "ok", start, end: start + n, ...(tail !== undefined ? { tail } : {}) });
const unknown: AppendOutcome = { type: "unknown", reason: "connection lost" };

/** The log holding these appends' records in this order, seq nums from 0, timestamps = seq nums. */
function logOf(...appends: AppendAttempt[]): LogRecord[] {
  const log: LogRecord[] = [];
  for (const a of appends) for (const r of a.records) log.push({ ...r, seqNum: log.length, timestamp: log.length });
  return log;
}

const historyOf = (appends: AppendAttempt[], extra: Partial<History> = {}): History =>
  ({ initialSeqNum: 0, appends, tails: [], readers: [], ...extra });

const kinds = (history: History, log: LogRecord[]) => checkHistory(history, log).violations.map((v) => v.kind);

function reader(start: number, deliveries: ReaderHistory["deliveries"], mustReach?: number): ReaderHistory {
  return { kind: "reader", id: `r${++ids}`, client: "r", protocol: "test", start, deliveries, ...(mustReach !== undefined ? { mustReach } : {}) };
}

describe("checkHistory: valid histories", () => {
  it("passes sequential and overlapping appends in either order, with tails, conditions and readers", () => {
    const a = attempt("a", 2, [0, 10], ok(0, 2, 2));
    // b and c overlap: either order is linearizable; the log says c first.
    const b = attempt("b", 1, [20, 40], ok(4, 1));
    const c = attempt("c", 2, [25, 30], ok(2, 2), { matchSeqNum: 2 });
    const refused = attempt("d", 1, [50, 60], { type: "seq_num_mismatch", expected: 5 }, { matchSeqNum: 3 });
    const maybe = attempt("e", 1, [55, 0], unknown);
    const log = logOf(a, c, b);
    const history = historyOf([a, b, c, refused, maybe], {
      tails: [{ kind: "tail", id: "t1", client: "t", invokedAtMs: 11, completedAtMs: 19, tail: 2 },
        { kind: "tail", id: "t2", client: "t", invokedAtMs: 26, completedAtMs: 50, tail: 4 }],
      readers: [reader(0, log.map((r) => ({ type: "record" as const, atMs: 70, seqNum: r.seqNum, body: r.body, timestamp: r.timestamp }))),
        reader(1, [{ type: "bytes", atMs: 70, from: 1, next: 3, bytes: new Uint8Array([...log[1]!.body, ...log[2]!.body]) }])],
    });
    const result = checkHistory(history, log);
    expect(result.violations).toEqual([]);
    expect(result.stats).toMatchObject({ records: 5, acknowledged: 3, refused: 1, unknown: 1, unknownApplied: 0 });
  });

  it("accepts an unknown append either way, and a producer retry answered as a duplicate", () => {
    const first = attempt("p-1", 1, [0, 0], unknown);
    const retry = attempt("p-1", 1, [10, 20], { type: "duplicate", tail: 1 });
    expect(kinds(historyOf([first, retry]), logOf(first))).toEqual([]);
    const lostUnknown = attempt("q", 1, [0, 0], unknown);
    expect(kinds(historyOf([lostUnknown]), [])).toEqual([]);
  });

  it("passes fencing: a fence, appends with its token, a 412 naming it", () => {
    const fence = attempt("fence:t1", 1, [0, 5], ok(0, 1), { records: [fenceRecord("t1")] });
    const fenced = attempt("x", 1, [6, 9], ok(1, 1), { fencingToken: "t1" });
    const stale = attempt("y", 1, [10, 12], { type: "fencing_token_mismatch", expected: "t1" }, { fencingToken: "" });
    expect(kinds(historyOf([fence, fenced, stale]), logOf(fence, fenced))).toEqual([]);
  });
});

describe("checkHistory: what it catches", () => {
  it("an acknowledged append missing from the log", () => {
    const a = attempt("a", 1, [0, 1], ok(0, 1));
    const b = attempt("b", 1, [2, 3], ok(1, 1));
    expect(kinds(historyOf([a, b]), logOf(a))).toContain("lost");
  });

  it("an append applied twice (a producer retry that was not deduplicated)", () => {
    const first = attempt("p-7", 1, [0, 0], unknown);
    const retry = attempt("p-7", 1, [10, 20], ok(1, 1));
    expect(kinds(historyOf([first, retry]), logOf(first, retry))).toContain("duplicate");
  });

  it("records of one batch reordered, split, or partly missing", () => {
    const a = attempt("a", 3, [0, 1], ok(0, 3));
    const log = logOf(a);
    const swapped = [log[1]!, log[0]!, log[2]!].map((r, i) => ({ ...r, seqNum: i }));
    expect(kinds(historyOf([a]), swapped)).toContain("reorder");
    const b = attempt("b", 1, [0, 1], unknown);
    const split = logOf(a, b);
    const interleaved = [split[0]!, split[3]!, split[1]!, split[2]!].map((r, i) => ({ ...r, seqNum: i }));
    expect(kinds(historyOf([a, b]), interleaved)).toContain("reorder");
    expect(kinds(historyOf([a]), log.slice(0, 2))).toContain("partial");
  });

  it("a gap or a repeated seq num, and a timestamp going back", () => {
    const a = attempt("a", 2, [0, 1], unknown);
    const log = logOf(a);
    expect(kinds(historyOf([a]), [log[0]!, { ...log[1]!, seqNum: 2 }])).toContain("log");
    expect(kinds(historyOf([a]), [{ ...log[0]!, timestamp: 5 }, { ...log[1]!, timestamp: 4 }])).toContain("log");
  });

  it("altered bytes: body or headers", () => {
    const a = attempt("a", 1, [0, 1], ok(0, 1));
    const [stored] = logOf(a);
    const body = new Uint8Array(stored!.body);
    body[body.length - 1] = body[body.length - 1]! ^ 1;
    expect(kinds(historyOf([a]), [{ ...stored!, body }])).toContain("bytes");
    expect(kinds(historyOf([a]), [{ ...stored!, headers: [] }])).toContain("bytes");
  });

  it("a record nobody wrote", () => {
    const a = attempt("a", 1, [0, 1], ok(0, 1));
    const stranger: LogRecord = { seqNum: 1, timestamp: 1, headers: [], body: text("no tag here") };
    expect(kinds(historyOf([a]), [...logOf(a), stranger])).toContain("phantom");
  });

  it("a refused append that took effect anyway", () => {
    const a = attempt("a", 1, [0, 1], { type: "seq_num_mismatch", expected: 0 }, { matchSeqNum: 3 });
    expect(kinds(historyOf([a]), logOf(a))).toContain("failed-applied");
    const b = attempt("b", 1, [0, 1], { type: "rejected", status: 422, code: "invalid" });
    expect(kinds(historyOf([b]), logOf(b))).toContain("failed-applied");
  });

  it("an ack naming other positions than where the records are", () => {
    const a = attempt("a", 1, [0, 1], ok(0, 1));
    const b = attempt("b", 1, [2, 3], ok(0, 1));
    expect(kinds(historyOf([a, b]), logOf(a, b))).toContain("ack");
  });

  it("conditions: match_seq_num or fencing token not honoured, or a 412 naming the client's own value", () => {
    const a = attempt("a", 1, [0, 1], ok(0, 1));
    const b = attempt("b", 1, [2, 3], ok(1, 1), { matchSeqNum: 0 });
    expect(kinds(historyOf([a, b]), logOf(a, b))).toContain("condition");
    const fence = attempt("fence:t1", 1, [0, 1], ok(0, 1), { records: [fenceRecord("t1")] });
    const wrongToken = attempt("c", 1, [2, 3], ok(1, 1), { fencingToken: "t0" });
    expect(kinds(historyOf([fence, wrongToken]), logOf(fence, wrongToken))).toContain("condition");
    const silly = attempt("d", 1, [0, 1], { type: "seq_num_mismatch", expected: 4 }, { matchSeqNum: 4 });
    expect(kinds(historyOf([silly]), [])).toContain("condition");
    const neverHeld = attempt("e", 1, [0, 1], { type: "fencing_token_mismatch", expected: "zzz" }, { fencingToken: "" });
    expect(kinds(historyOf([neverHeld]), [])).toContain("condition");
  });

  it("non-linearizable: an append ordered before one acknowledged before it began", () => {
    const a = attempt("a", 1, [0, 10], ok(1, 1));
    const b = attempt("b", 1, [20, 30], ok(0, 1));
    expect(kinds(historyOf([a, b]), logOf(b, a))).toContain("linearizability");
  });

  it("non-linearizable: a stale check-tail, a stale 412, a stale ack tail", () => {
    const a = attempt("a", 1, [0, 10], ok(0, 1));
    const staleTail = { kind: "tail" as const, id: "t", client: "t", invokedAtMs: 20, completedAtMs: 25, tail: 0 };
    expect(kinds(historyOf([a], { tails: [staleTail] }), logOf(a))).toContain("linearizability");
    const stale412 = attempt("b", 1, [20, 25], { type: "seq_num_mismatch", expected: 0 }, { matchSeqNum: 5 });
    expect(kinds(historyOf([a, stale412]), logOf(a))).toContain("linearizability");
    // An ack may report a later tail than its own end, but not one that counts an append not yet invoked.
    const c = attempt("c", 1, [20, 30], ok(1, 1, 3));
    const d = attempt("d", 1, [50, 60], ok(2, 1));
    expect(kinds(historyOf([a, c, d]), logOf(a, c, d))).toContain("linearizability");
  });

  it("a tail beyond the final log: acknowledged-by-count records lost", () => {
    const a = attempt("a", 1, [0, 10], ok(0, 1));
    const future = { kind: "tail" as const, id: "t", client: "t", invokedAtMs: 20, completedAtMs: 25, tail: 5 };
    expect(kinds(historyOf([a], { tails: [future] }), logOf(a))).toContain("lost");
  });

  it("a reader that saw a record before its append was invoked", () => {
    const a = attempt("a", 1, [50, 60], ok(0, 1));
    const log = logOf(a);
    const early = reader(0, [{ type: "record", atMs: 10, seqNum: 0, body: log[0]!.body }]);
    expect(kinds(historyOf([a], { readers: [early] }), log)).toContain("linearizability");
  });

  it("readers: gap, duplicate, reorder, wrong bytes, stuck short of the end", () => {
    const a = attempt("a", 3, [0, 1], ok(0, 3));
    const log = logOf(a);
    const got = (s: number) => ({ type: "record" as const, atMs: 5, seqNum: s, body: log[s]!.body });
    const check = (r: ReaderHistory) => kinds(historyOf([a], { readers: [r] }), log);
    expect(check(reader(0, [got(0), got(2)]))).toContain("reader-gap");
    expect(check(reader(0, [got(0), got(1), got(1), got(2)]))).toContain("reader-duplicate");
    expect(check(reader(0, [got(1), got(0)]))).toContain("reader-gap");
    expect(check(reader(0, [got(0), { ...got(1), body: text("x") }]))).toContain("reader-bytes");
    expect(check(reader(0, [got(0)], 3))).toContain("reader-stuck");
    expect(check(reader(0, [{ type: "bytes", atMs: 5, from: 0, next: 2, bytes: log[0]!.body }]))).toContain("reader-bytes");
    // Byte reads leave command records out: a fence in range adds nothing, and its body must not appear.
    const fence = attempt("fence:f", 1, [0, 1], ok(3, 1), { records: [fenceRecord("f")] });
    const b = attempt("b", 1, [0, 1], ok(4, 1));
    const withFence = logOf(a, fence, b);
    const bytesOf = (...s: number[]) => new Uint8Array(s.flatMap((x) => [...withFence[x]!.body]));
    const dsRead = (bytes: Uint8Array) => kinds(historyOf([a, fence, b], { readers: [reader(2, [{ type: "bytes", atMs: 5, from: 2, next: 5, bytes }])] }), withFence);
    expect(dsRead(bytesOf(2, 4))).toEqual([]);
    expect(dsRead(bytesOf(2, 3, 4))).toContain("reader-bytes");
    expect(check(reader(0, [got(0), got(1), got(2), { ...got(2), seqNum: 3 }]))).toContain("lost");
  });
});

describe("checkHistory: compact readers (digests, for long runs)", () => {
  it("accepts matching digests and catches a wrong one, a gap and a wrong byte read", () => {
    const a = attempt("a", 3, [0, 1], ok(0, 3));
    const log = logOf(a);
    const digests = (...s: number[]) => Uint32Array.from(s, (x) => recordDigest(log[x]!));
    const check = (r: ReaderHistory) => kinds(historyOf([a], { readers: [r] }), log);
    expect(check(reader(0, [{ type: "digests", atMs: 5, from: 0, digests: digests(0, 1) }, { type: "digests", atMs: 5, from: 2, digests: digests(2) }], 3))).toEqual([]);
    const wrong = digests(0, 1);
    wrong[1] = wrong[1]! ^ 1;
    expect(check(reader(0, [{ type: "digests", atMs: 5, from: 0, digests: wrong }]))).toContain("reader-bytes");
    expect(check(reader(0, [{ type: "digests", atMs: 5, from: 1, digests: digests(1) }]))).toContain("reader-gap");
    const bytes = new Uint8Array([...log[0]!.body, ...log[1]!.body]);
    expect(check(reader(0, [{ type: "bytes-digest", atMs: 5, from: 0, next: 2, length: bytes.length, digest: fnv1a(bytes) }]))).toEqual([]);
    expect(check(reader(0, [{ type: "bytes-digest", atMs: 5, from: 0, next: 2, length: bytes.length, digest: fnv1a(bytes) ^ 1 }]))).toContain("reader-bytes");
  });

  it("a digest tells apart records that differ in one header byte", () => {
    const record = recordsOf("x", 1)[0]!;
    const header = record.headers[0]!;
    const changed = { ...record, headers: [[header[0], new Uint8Array([...header[1].subarray(0, -1), header[1].at(-1)! ^ 1])] as const] };
    expect(recordDigest(changed)).not.toBe(recordDigest(record));
  });
});

// ---- property: a correct model passes, corruption is caught ----------------------------------------------

interface ModelOp {
  kind: "append" | "conditional" | "tail";
  records: number;
  wrongMatch: boolean;
  before: number;
  after: number;
}

const opArb: fc.Arbitrary<ModelOp> = fc.record({
  kind: fc.constantFrom<ModelOp["kind"]>("append", "conditional", "tail"),
  records: fc.integer({ min: 1, max: 3 }),
  wrongMatch: fc.boolean(),
  before: fc.integer({ min: 0, max: 40 }),
  after: fc.integer({ min: 0, max: 40 }),
});

/**
 * Runs ops against an in-memory stream, each taking effect at 10·i, invoked up to 40 ms before and
 * answering up to 40 ms after: linearizable by construction, with heavily overlapping calls.
 */
function simulate(ops: ModelOp[]): { history: History; log: LogRecord[] } {
  const history: History = { initialSeqNum: 0, appends: [], tails: [], readers: [] };
  const log: LogRecord[] = [];
  ops.forEach((op, i) => {
    const at = 100 + 10 * i;
    const span: [number, number] = [at - op.before, at + op.after];
    const tail = log.length;
    if (op.kind === "tail") {
      history.tails.push({ kind: "tail", id: `t${i}`, client: "t", invokedAtMs: span[0], completedAtMs: span[1], tail });
      return;
    }
    const matchSeqNum = op.kind === "conditional" ? (op.wrongMatch ? tail + 1 : tail) : undefined;
    if (matchSeqNum !== undefined && matchSeqNum !== tail) {
      history.appends.push(attempt(`k${i}`, op.records, span, { type: "seq_num_mismatch", expected: tail }, { matchSeqNum }));
      return;
    }
    const a = attempt(`k${i}`, op.records, span, ok(tail, op.records, tail + op.records), matchSeqNum !== undefined ? { matchSeqNum } : {});
    history.appends.push(a);
    for (const r of a.records) log.push({ ...r, seqNum: log.length, timestamp: at });
  });
  const follower = reader(0, log.map((r) => ({ type: "record" as const, atMs: 100 + 10 * ops.length + 50, seqNum: r.seqNum, body: r.body })), log.length);
  history.readers.push(follower);
  return { history, log };
}

const renumber = (log: LogRecord[]) => log.map((r, i) => ({ ...r, seqNum: i }));

describe("checkHistory: property", () => {
  it("passes every history of a correct stream", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const { history, log } = simulate(ops);
      expect(checkHistory(history, log).violations).toEqual([]);
    }), { numRuns: 300 });
  });

  it("catches a dropped, duplicated, swapped or altered record, and a dropped or stale reader delivery", () => {
    const mutations = ["drop", "duplicate", "swap", "alter", "reader-drop", "reader-repeat"] as const;
    fc.assert(fc.property(
      fc.array(opArb, { minLength: 2, maxLength: 30 }), fc.constantFrom(...mutations), fc.nat(), fc.nat(),
      (ops, mutation, x, y) => {
        const { history, log } = simulate(ops);
        fc.pre(log.length >= 2);
        const i = x % log.length;
        const j = y % log.length;
        let corrupted = log;
        if (mutation === "drop") corrupted = renumber(log.filter((_, k) => k !== i));
        if (mutation === "duplicate") corrupted = renumber([...log.slice(0, i + 1), log[i]!, ...log.slice(i + 1)]);
        if (mutation === "swap") {
          fc.pre(i !== j);
          corrupted = [...log];
          [corrupted[i], corrupted[j]] = [corrupted[j]!, corrupted[i]!];
          corrupted = renumber(corrupted);
        }
        if (mutation === "alter") {
          const body = new Uint8Array(log[i]!.body);
          body[body.length - 1] = body[body.length - 1]! ^ 0x20;
          corrupted = log.map((r, k) => (k === i ? { ...r, body } : r));
        }
        const follower = history.readers[0]!;
        if (mutation === "reader-drop") follower.deliveries.splice(i, 1);
        if (mutation === "reader-repeat") follower.deliveries.splice(i, 0, follower.deliveries[i]!);
        expect(checkHistory(history, corrupted).violations.length, mutation).toBeGreaterThan(0);
      },
    ), { numRuns: 500 });
  });
});
