import { describe, expect, it } from "vitest";
import { checkProducer, checkStreamSeq, compareCodePoints, sameClaim } from "../../src/domain/producer";
import { unwrap, unwrapErr } from "./support";

const claim = (epoch: number, seq: number, id = "p") => ({ id, epoch, seq });

describe("idempotent producers: the validation table of PROTOCOL.md §5.2.1", () => {
  it("accepts a new producer at seq 0 in any epoch, and tells one that starts later to resume at 0", () => {
    expect(unwrap(checkProducer(undefined, claim(0, 0)))).toEqual({ kind: "accept", state: { epoch: 0, lastSeq: 0 } });
    expect(unwrap(checkProducer(undefined, claim(7, 0)))).toEqual({ kind: "accept", state: { epoch: 7, lastSeq: 0 } });
    expect(unwrapErr(checkProducer(undefined, claim(0, 3)))).toEqual({ code: "producer_seq_gap", expectedSeq: 0, receivedSeq: 3 });
  });

  it("fences an older epoch with the current one", () => {
    expect(unwrapErr(checkProducer({ epoch: 2, lastSeq: 5 }, claim(1, 6)))).toEqual({ code: "producer_epoch_stale", currentEpoch: 2 });
  });

  it("takes a newer epoch only at seq 0", () => {
    expect(unwrap(checkProducer({ epoch: 2, lastSeq: 5 }, claim(3, 0)))).toEqual({ kind: "accept", state: { epoch: 3, lastSeq: 0 } });
    expect(unwrapErr(checkProducer({ epoch: 2, lastSeq: 5 }, claim(3, 1))).code).toBe("bad_header");
  });

  it("in the same epoch: duplicates answer with the highest accepted, the next seq is accepted, gaps say where to resume", () => {
    const state = { epoch: 1, lastSeq: 4 };
    expect(unwrap(checkProducer(state, claim(1, 2)))).toEqual({ kind: "duplicate", state });
    expect(unwrap(checkProducer(state, claim(1, 4)))).toEqual({ kind: "duplicate", state });
    expect(unwrap(checkProducer(state, claim(1, 5)))).toEqual({ kind: "accept", state: { epoch: 1, lastSeq: 5 } });
    expect(unwrapErr(checkProducer(state, claim(1, 7)))).toEqual({ code: "producer_seq_gap", expectedSeq: 5, receivedSeq: 7 });
  });

  it("compares whole claims", () => {
    expect(sameClaim(claim(1, 2), claim(1, 2))).toBe(true);
    expect(sameClaim(claim(1, 2), claim(1, 3))).toBe(false);
    expect(sameClaim(claim(1, 2, "a"), claim(1, 2, "b"))).toBe(false);
  });
});

describe("Stream-Seq (PROTOCOL.md §5.2): strictly increasing, byte-wise", () => {
  it("allows anything first and nothing when absent", () => {
    expect(checkStreamSeq(null, "x").ok).toBe(true);
    expect(checkStreamSeq("x", null).ok).toBe(true);
  });

  it("compares as strings, not numbers, and refuses equal values", () => {
    expect(unwrapErr(checkStreamSeq("2", "10"))).toEqual({ code: "stream_seq_regression", lastSeq: "2" });
    expect(checkStreamSeq("09", "10").ok).toBe(true);
    expect(checkStreamSeq("a", "a").ok).toBe(false);
    expect(checkStreamSeq("B", "a").ok).toBe(true);
    expect(checkStreamSeq("a", "B").ok).toBe(false);
  });

  it("orders by code point (UTF-8 byte order), where UTF-16 units would disagree", () => {
    // U+FF5E is one UTF-16 unit above the surrogates of U+1F600, yet sorts before it in UTF-8.
    expect(compareCodePoints("\u{FF5E}", "\u{1F600}")).toBeLessThan(0);
    expect("\u{FF5E}" < "\u{1F600}").toBe(false);
    expect(checkStreamSeq("\u{FF5E}", "\u{1F600}").ok).toBe(true);
    expect(compareCodePoints("ab", "abc")).toBeLessThan(0);
  });
});
