/**
 * Durable Streams offsets (PROTOCOL.md §6) in the shape the conformance suite pins: two 16-digit decimal
 * fields joined by `_`, so string order is stream order. The left field is the engine's seq num of the next
 * record (the position the offset names); the right field is always 0 in offsets we mint and must be 0 in
 * offsets we accept: positions inside a record are never needed, because a fork that splits a record
 * stores the cut record as a record of its own (stream/stream-forks.ts).
 *
 *   0000000000000000_0000000000000000   the start of every stream
 *   0000000000000042_0000000000000000   after the first 42 records (seq nums 0..41)
 *   -1                                  input only: the start (same as no offset)
 *   now                                 input only: the tail when the request arrives
 *
 * Seq nums stay below 2^53 (domain/limits.ts), so 16 digits always suffice; a larger left field parses as
 * beyond every tail.
 */
import { streamError, type MessageErrorCode, type StreamError } from "../../domain/errors";
import { err, ok, type Result } from "../../lib/result";
import { OFFSET_PARAM } from "./headers";

const FIELD_DIGITS = 16;
const ZERO_FIELD = "0".repeat(FIELD_DIGITS);
const OFFSET = /^(\d+)_(\d+)$/;

/** Where a read starts. */
export type OffsetStart = { kind: "start" } | { kind: "tail" } | { kind: "seq_num"; seqNum: number };

export const START_OFFSET = `${ZERO_FIELD}_${ZERO_FIELD}`;

export const renderOffset = (seqNum: number): string => `${String(seqNum).padStart(FIELD_DIGITS, "0")}_${ZERO_FIELD}`;

/** The seq num a minted offset names; undefined for anything else (sentinels, a non-zero right field). */
export function offsetSeqNum(text: string): number | undefined {
  const match = OFFSET.exec(text);
  if (!match || /[^0]/.test(match[2]!)) return undefined;
  return Math.min(Number(match[1]), Number.MAX_SAFE_INTEGER);
}

function parse(text: string, code: MessageErrorCode, what: string): Result<OffsetStart, StreamError> {
  if (text === "-1") return ok({ kind: "start" });
  if (text === "now") return ok({ kind: "tail" });
  const seqNum = offsetSeqNum(text);
  if (seqNum === undefined) return err(streamError(code, `${what}: expected -1, now or an offset this server returned`));
  return ok({ kind: "seq_num", seqNum });
}

/**
 * The `offset` query parameter (PROTOCOL.md §5.6): absent is undefined (the caller decides what that means);
 * empty, repeated or malformed is a 400.
 */
export function parseOffsetParam(params: URLSearchParams): Result<OffsetStart | undefined, StreamError> {
  const values = params.getAll(OFFSET_PARAM);
  if (values.length === 0) return ok(undefined);
  if (values.length > 1) return err(streamError("bad_query", "offset must be given once"));
  return parse(values[0]!, "bad_query", "offset");
}

/** `Stream-Fork-Offset`: a real offset only; sentinels name no fixed point. */
export function parseForkOffset(text: string): Result<number, StreamError> {
  const seqNum = offsetSeqNum(text.trim());
  return seqNum === undefined ? err(streamError("bad_header", "Stream-Fork-Offset: expected an offset")) : ok(seqNum);
}

/** The seq num a read starts at; undefined for the tail, which only the stream knows. */
export function startSeqNum(start: OffsetStart): number | undefined {
  return start.kind === "seq_num" ? start.seqNum : start.kind === "start" ? 0 : undefined;
}
