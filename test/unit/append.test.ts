import { describe, expect, it } from "vitest";
import { checkAppendInput, EMPTY_STREAM_STATE, planAppend, type StreamState } from "../../src/domain/append";
import { commandRecord } from "../../src/domain/commands";
import { SYSTEM_STREAM_DEFAULTS, type StreamConfig } from "../../src/domain/config";
import type { AppendInput, AppendRecord } from "../../src/domain/types";
import { header, record, unwrap, unwrapErr } from "./support";

const MIB = 1024 * 1024;
const NOW = 1_700_000_000_000;
const config: StreamConfig = { ...SYSTEM_STREAM_DEFAULTS };
const records = (n: number, body = "x"): AppendRecord[] => Array.from({ length: n }, () => record(body));
const batch = (recs: AppendRecord[], extra: Partial<AppendInput> = {}): AppendInput => ({ records: recs, ...extra });
const state = (seqNum: number, fencingToken = "", trimPoint = 0, timestamp = 0): StreamState => ({
  tail: { seqNum, timestamp },
  fencingToken,
  trimPoint,
});
const plan = (s: StreamState, input: AppendInput, c: StreamConfig = config) => planAppend(s, input, c, NOW);
const fence = (token: string) => commandRecord({ kind: "fence", token });
const trim = (trimPoint: number) => commandRecord({ kind: "trim", trimPoint });

describe("checkAppendInput: record count (S2-API §8.4)", () => {
  it("rejects an empty batch", () => {
    expect(unwrapErr(checkAppendInput(batch([])))).toEqual({ code: "invalid", message: "record batch must not be empty" });
  });

  it("accepts 1 and 1000 records, rejects 1001", () => {
    expect(checkAppendInput(batch(records(1))).ok).toBe(true);
    expect(checkAppendInput(batch(records(1000))).ok).toBe(true);
    const error = unwrapErr(checkAppendInput(batch(records(1001))));
    expect(error).toEqual({ code: "invalid", message: "record batch must not exceed 1000 records" });
  });
});

describe("checkAppendInput: metered bytes", () => {
  it("accepts exactly 1 MiB in one record and rejects one byte more", () => {
    expect(checkAppendInput(batch([record(new Uint8Array(MIB - 8))])).ok).toBe(true);
    expect(unwrapErr(checkAppendInput(batch([record(new Uint8Array(MIB - 7))]))).code).toBe("invalid");
  });

  it("sums the batch: 1000 records of exactly 1 MiB total pass, one byte more fails", () => {
    // 1000 × 8 + Σ bodies = 1 MiB → Σ bodies = 1_040_576 = 576 × 1041 + 424 × 1040.
    const recs = Array.from({ length: 1000 }, (_, i) => record(new Uint8Array(i < 576 ? 1041 : 1040)));
    expect(checkAppendInput(batch(recs)).ok).toBe(true);
    recs[999] = record(new Uint8Array(1041));
    expect(unwrapErr(checkAppendInput(batch(recs))).code).toBe("invalid");
  });

  it("meters headers too", () => {
    // 8 + 2 + 1 + 1 + body = 1 MiB exactly.
    const h = header("k", "v");
    expect(checkAppendInput(batch([record(new Uint8Array(MIB - 12), [h])])).ok).toBe(true);
    expect(checkAppendInput(batch([record(new Uint8Array(MIB - 11), [h])])).ok).toBe(false);
  });
});

describe("checkAppendInput: fencing token and commands", () => {
  it("accepts a 36-byte token and rejects 37 bytes (UTF-8)", () => {
    expect(checkAppendInput(batch(records(1), { fencingToken: "t".repeat(36) })).ok).toBe(true);
    expect(checkAppendInput(batch(records(1), { fencingToken: "" })).ok).toBe(true);
    expect(unwrapErr(checkAppendInput(batch(records(1), { fencingToken: "t".repeat(37) }))).code).toBe("invalid");
    expect(checkAppendInput(batch(records(1), { fencingToken: "é".repeat(19) })).ok).toBe(false);
  });

  it("rejects malformed command records with invalid", () => {
    const unknown = record("", [header("", "nope")]);
    expect(unwrapErr(checkAppendInput(batch([record("ok"), unknown])))).toEqual({ code: "invalid", message: "unknown command" });
    const badTrim = record("1234567", [header("", "trim")]);
    expect(unwrapErr(checkAppendInput(batch([badTrim]))).code).toBe("invalid");
    const mixed = record("", [header("", "fence"), header("a", "b")]);
    expect(unwrapErr(checkAppendInput(batch([mixed]))).code).toBe("invalid");
  });

  it("accepts well-formed command records", () => {
    expect(checkAppendInput(batch([fence("abc"), trim(5), record("x")])).ok).toBe(true);
  });
});

describe("planAppend: conditions (S2-API §9.2)", () => {
  it("checks the fencing token before match_seq_num", () => {
    const error = unwrapErr(plan(state(5, "a"), batch(records(1), { fencingToken: "b", matchSeqNum: 99 })));
    expect(error).toEqual({ code: "fencing_token_mismatch", expectedToken: "a" });
  });

  it("reports the server's next seq num on a match_seq_num mismatch", () => {
    expect(unwrapErr(plan(state(5), batch(records(1), { matchSeqNum: 4 })))).toEqual({ code: "seq_num_mismatch", expectedSeqNum: 5 });
  });

  it("treats match_seq_num 0 as a real condition", () => {
    expect(unwrapErr(plan(state(3), batch(records(1), { matchSeqNum: 0 })))).toEqual({ code: "seq_num_mismatch", expectedSeqNum: 3 });
    expect(plan(EMPTY_STREAM_STATE, batch(records(1), { matchSeqNum: 0 })).ok).toBe(true);
  });

  it("accepts the empty fencing token on an unfenced stream and a matching token", () => {
    expect(plan(EMPTY_STREAM_STATE, batch(records(1), { fencingToken: "" })).ok).toBe(true);
    expect(plan(state(2, "tok"), batch(records(1), { fencingToken: "tok", matchSeqNum: 2 })).ok).toBe(true);
  });

  it("imposes nothing when both conditions are absent", () => {
    expect(plan(state(7, "held"), batch(records(1))).ok).toBe(true);
  });

  it("checks conditions before timestamps", () => {
    const c: StreamConfig = { ...config, timestampingMode: "client-require" };
    expect(unwrapErr(plan(state(1), batch([record("a")], { matchSeqNum: 0 }), c)).code).toBe("seq_num_mismatch");
  });

  it("rejects client-require with a missing timestamp", () => {
    const c: StreamConfig = { ...config, timestampingMode: "client-require" };
    expect(unwrapErr(plan(EMPTY_STREAM_STATE, batch([record("a", [], 1), record("b")]), c)).code).toBe("invalid");
  });
});

describe("planAppend: sequencing and ack (S2-API §9.3)", () => {
  it("assigns consecutive seq nums from the tail", () => {
    const planned = unwrap(plan(state(10, "", 0, 100), batch([record("a", [], 200), record("b", [], 300), record("c", [], 250)])));
    expect(planned.records.map((r) => r.seqNum)).toEqual([10, 11, 12]);
    expect(planned.records.map((r) => r.timestamp)).toEqual([200, 300, 300]);
    expect(planned.ack.start).toEqual({ seqNum: 10, timestamp: 200 });
    expect(planned.ack.end).toEqual({ seqNum: 13, timestamp: 300 });
    expect(planned.ack.tail).toEqual(planned.ack.end);
    expect(planned.state.tail).toEqual({ seqNum: 13, timestamp: 300 });
  });

  it("keeps headers and bodies", () => {
    const planned = unwrap(plan(EMPTY_STREAM_STATE, batch([record("body", [header("h", "v")])])));
    expect(planned.records[0]).toEqual({ seqNum: 0, timestamp: NOW, headers: [header("h", "v")], body: record("body").body });
  });

  it("raises timestamps to the stream's last timestamp", () => {
    const planned = unwrap(plan(state(1, "", 0, NOW + 10), batch(records(2))));
    expect(planned.ack.start.timestamp).toBe(NOW + 10);
    expect(planned.ack.end.timestamp).toBe(NOW + 10);
  });

  it("does not mutate the given state", () => {
    const before = state(4, "a", 2, 9);
    const copy = structuredClone(before);
    unwrap(plan(before, batch([fence("b"), trim(4)])));
    expect(before).toEqual(copy);
  });
});

describe("planAppend: command effects (S2-API §9.5)", () => {
  it("a fence takes effect for later batches only", () => {
    // The batch carrying the fence is checked against the old token.
    expect(unwrapErr(plan(EMPTY_STREAM_STATE, batch([fence("new")], { fencingToken: "new" })))).toEqual({
      code: "fencing_token_mismatch",
      expectedToken: "",
    });
    const first = unwrap(plan(EMPTY_STREAM_STATE, batch([fence("new"), record("x")], { fencingToken: "" })));
    expect(first.state.fencingToken).toBe("new");
    expect(unwrapErr(plan(first.state, batch(records(1), { fencingToken: "" })))).toEqual({
      code: "fencing_token_mismatch",
      expectedToken: "new",
    });
    expect(plan(first.state, batch(records(1), { fencingToken: "new" })).ok).toBe(true);
  });

  it("the last fence of a batch wins and an empty fence clears", () => {
    expect(unwrap(plan(EMPTY_STREAM_STATE, batch([fence("a"), fence("b")]))).state.fencingToken).toBe("b");
    expect(unwrap(plan(state(1, "held"), batch([fence("")]))).state.fencingToken).toBe("");
  });

  it("sets the trim point to min(requested, own seq num + 1)", () => {
    expect(unwrap(plan(state(5), batch([trim(3)]))).state.trimPoint).toBe(3);
    expect(unwrap(plan(state(5), batch([trim(100)]))).state.trimPoint).toBe(6);
    expect(unwrap(plan(state(5), batch([record("a"), trim(Number.MAX_SAFE_INTEGER)]))).state.trimPoint).toBe(7);
    expect(unwrap(plan(state(5), batch([trim(6)]))).state.trimPoint).toBe(6);
  });

  it("never decreases the trim point", () => {
    expect(unwrap(plan(state(10, "", 8), batch([trim(3)]))).state.trimPoint).toBe(8);
    expect(unwrap(plan(state(10, "", 8), batch([trim(0)]))).state.trimPoint).toBe(8);
    expect(unwrap(plan(state(10), batch([trim(9), trim(2)]))).state.trimPoint).toBe(9);
    expect(unwrap(plan(EMPTY_STREAM_STATE, batch([trim(0)]))).state.trimPoint).toBe(0);
  });

  it("command records consume seq nums and timestamps like other records", () => {
    const planned = unwrap(plan(state(2), batch([fence("f"), record("x"), trim(1)])));
    expect(planned.records.map((r) => r.seqNum)).toEqual([2, 3, 4]);
    expect(planned.records[0]!.headers).toEqual(fence("f").headers);
    expect(planned.ack.end.seqNum).toBe(5);
  });

  it("leaves the token and trim point alone without commands", () => {
    const planned = unwrap(plan(state(3, "tok", 2), batch(records(2))));
    expect(planned.state).toEqual({ tail: { seqNum: 5, timestamp: NOW }, fencingToken: "tok", trimPoint: 2 });
  });
});
