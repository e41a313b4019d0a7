import { describe, expect, it } from "vitest";
import { EMPTY_STREAM_STATE } from "../../src/domain/append";
import { SYSTEM_STREAM_DEFAULTS } from "../../src/domain/config";
import { decideAppend, type AppendContext, type GuardedAppend } from "../../src/domain/guarded-append";
import { newLifecycle, type StreamLifecycle } from "../../src/domain/lifecycle";
import { utf8 } from "../../src/lib/bytes";
import { ok } from "../../src/lib/result";
import { unwrap, unwrapErr } from "./support";

const NOW = 1_700_000_000_000;
const open = newLifecycle({ contentType: "application/json", ttlSecs: null, expiresAt: null, closed: false, fork: null }, NOW - 1000, "i");
const body = (text: string) => ({ bytes: utf8(text), messages: ok([utf8(text)]) });
const request = (over: Partial<GuardedAppend> = {}): GuardedAppend =>
  ({ contentType: "application/json", payload: body("1"), close: false, producer: null, streamSeq: null, ...over });
const context = (lifecycle: StreamLifecycle = open, producer?: { epoch: number; lastSeq: number }): AppendContext =>
  ({ lifecycle, state: { ...EMPTY_STREAM_STATE, tail: { seqNum: 3, timestamp: 1 } }, config: SYSTEM_STREAM_DEFAULTS, producer, nowMs: NOW });
const claim = (epoch: number, seq: number) => ({ id: "p", epoch, seq });

describe("append precedence (PROTOCOL.md §5.2): closed, content type, producer, Stream-Seq, body", () => {
  it("refuses appends to a closed stream with its final tail, before looking at the content type", () => {
    const closed = { ...open, closed: true };
    expect(unwrapErr(decideAppend(request({ contentType: "text/plain" }), context(closed)))).toEqual({ code: "stream_closed", tail: { seqNum: 3, timestamp: 1 } });
  });

  it("answers the retry of the closing append as a duplicate even with another body, and closes idempotently", () => {
    const closed = { ...open, closed: true, closedBy: claim(0, 4) };
    expect(unwrap(decideAppend(request({ producer: claim(0, 4), payload: body("2"), close: true }), context(closed))))
      .toEqual({ kind: "duplicate", producer: { epoch: 0, lastSeq: 4 }, closed: true });
    expect(unwrap(decideAppend(request({ contentType: null, payload: { bytes: new Uint8Array() }, close: true }), context(closed))))
      .toEqual({ kind: "closed_again" });
    expect(unwrapErr(decideAppend(request({ producer: claim(0, 5), close: true }), context(closed))).code).toBe("stream_closed");
  });

  it("checks the content type before the producer, but never for a close without a body", () => {
    expect(unwrapErr(decideAppend(request({ contentType: "text/plain", producer: claim(0, 9) }), context())).code).toBe("content_type_mismatch");
    const close = unwrap(decideAppend(request({ contentType: "text/plain", payload: { bytes: new Uint8Array() }, close: true }), context()));
    expect(close).toMatchObject({ kind: "commit", batches: [], lifecycle: { closed: true, closedBy: null } });
  });

  it("dedups a producer retry before Stream-Seq, and before validating the body", () => {
    const duplicate = decideAppend(request({ producer: claim(0, 1), streamSeq: "1", payload: body("{") }), { ...context({ ...open, lastStreamSeq: "1" }, { epoch: 0, lastSeq: 1 }) });
    expect(unwrap(duplicate)).toEqual({ kind: "duplicate", producer: { epoch: 0, lastSeq: 1 }, closed: false });
  });

  it("refuses a Stream-Seq regression, then bad bodies, and changes no state when it refuses", () => {
    expect(unwrapErr(decideAppend(request({ streamSeq: "1" }), context({ ...open, lastStreamSeq: "2" }))).code).toBe("stream_seq_regression");
    const badJson = { bytes: utf8("{"), messages: { ok: false as const, error: { code: "bad_json" as const, message: "m" } } };
    expect(unwrapErr(decideAppend(request({ payload: badJson, producer: claim(0, 0) }), context())).code).toBe("bad_json");
    expect(unwrapErr(decideAppend(request({ payload: { bytes: utf8("[]"), messages: ok([]) } }), context())).code).toBe("bad_json");
  });

  it("commits records, the new producer state, Stream-Seq, the close and the access time together", () => {
    const decision = unwrap(decideAppend(request({ producer: claim(2, 0), streamSeq: "a", close: true }), context(open, { epoch: 1, lastSeq: 7 })));
    expect(decision).toMatchObject({
      kind: "commit", producer: { epoch: 2, lastSeq: 0 },
      lifecycle: { closed: true, closedBy: claim(2, 0), lastStreamSeq: "a", lastAccessMs: NOW },
    });
    if (decision.kind !== "commit") throw new Error("unreachable");
    expect(decision.batches[0]!.records.map((record) => record.seqNum)).toEqual([3]);
  });
});
