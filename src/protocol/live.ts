/**
 * The internal protocol between a StreamObject and the Worker relays that follow it over a hibernatable
 * WebSocket (DESIGN.md §3). The object sends only durable records, in order; a relay tracks its own next
 * seq num and drops anything it already has, so a reconnect (after a deploy or an eviction) can resend
 * from the relay's position without loss or duplication.
 *
 * Subscribe: the relay opens `GET /follow?from=<seq num>` with `Upgrade: websocket`.
 * Messages object → relay are binary:
 *
 *   +------+-------------------+-------------------+-----------------------+------------------------+
 *   | kind | tail seq (varint) | tail ts (varint)  | start seq (varint)    | packed records         |
 *   | u8   |                   |                   | first record's seq    | domain/record-codec.ts |
 *   +------+-------------------+-------------------+-----------------------+------------------------+
 *
 * kind 1: records. kind 2: records (possibly none), after which the stream is closed (Durable Streams
 * close): nothing will ever follow, and the object sends it again to every relay that subscribes later.
 *
 * Close codes object → relay: LIVE_CLOSE_BEHIND (the relay is too far behind to be fed live: catch up with
 * reads, then subscribe again), LIVE_CLOSE_GONE (the stream was deleted).
 */
import { decodeRecordBatch, encodeRecordBatch } from "../domain/record-codec";
import type { ReadBatch, SequencedRecord, StreamPosition } from "../domain/types";
import { concatBytes } from "../lib/bytes";
import { readVarint, varintLength, writeVarint } from "../lib/varint";

export const LIVE_PATH = "/follow";
export const LIVE_CLOSE_BEHIND = 4000;
export const LIVE_CLOSE_GONE = 4404;

const KIND_RECORDS = 1;
const KIND_RECORDS_THEN_CLOSED = 2;

export function encodeLiveBatch(records: readonly SequencedRecord[], tail: StreamPosition, closed = false): Uint8Array {
  const start = records[0]?.seqNum ?? tail.seqNum;
  const head = new Uint8Array(1 + varintLength(tail.seqNum) + varintLength(tail.timestamp) + varintLength(start));
  head[0] = closed ? KIND_RECORDS_THEN_CLOSED : KIND_RECORDS;
  let offset = writeVarint(head, 1, tail.seqNum);
  offset = writeVarint(head, offset, tail.timestamp);
  writeVarint(head, offset, start);
  return concatBytes([head, encodeRecordBatch(records)]);
}

/** The header of a message (kind, tail, first seq num) as text: with the stream and size, it names the content. */
export function liveHeaderKey(bytes: Uint8Array): string {
  const [tailSeqNum, afterSeq] = readVarint(bytes, 1);
  const [tailTimestamp, afterTs] = readVarint(bytes, afterSeq);
  const [start] = readVarint(bytes, afterTs);
  return `${bytes[0]}:${tailSeqNum}:${tailTimestamp}:${start}`;
}

/** Throws on a malformed message: only our own object sends these, so one means a bug or a version skew. */
export function decodeLiveBatch(bytes: Uint8Array): Required<ReadBatch> {
  const kind = bytes[0];
  if (kind !== KIND_RECORDS && kind !== KIND_RECORDS_THEN_CLOSED) throw new Error(`unknown live message kind ${kind}`);
  const [tailSeqNum, afterSeq] = readVarint(bytes, 1);
  const [tailTimestamp, afterTs] = readVarint(bytes, afterSeq);
  const [start, afterStart] = readVarint(bytes, afterTs);
  return {
    records: decodeRecordBatch(bytes.subarray(afterStart), start),
    tail: { seqNum: tailSeqNum, timestamp: tailTimestamp },
    closed: kind === KIND_RECORDS_THEN_CLOSED,
  };
}
