/**
 * S2 v1 protobuf bodies (S2-API.md §16) ⇄ domain types. This is the only module that touches protobufjs; the
 * generated code in ./gen comes from proto/s2/v1/s2.proto via `npm run gen:proto` and is never edited by hand.
 *
 * Invariants:
 * - Decoders never throw. Truncated input, bad varints, invalid UTF-8 and a known field sent with the wrong wire
 *   type all become an Err with a message; the HTTP layer answers `400 bad_proto`. The wire-type rule matches
 *   s2's prost decoder, which rejects it, whereas protobufjs would silently skip the field.
 * - Presence survives: an absent `match_seq_num` / `timestamp` / `tail` decodes to undefined, a present 0 stays 0.
 * - Every decoded byte field is a fresh, exact-size, plain Uint8Array. protobufjs hands out views into the input
 *   (Buffers under Node), which would pin the whole request body and be cloned whole across a DO RPC.
 * - Every encoded message is a fresh, exact-size Uint8Array: protobufjs may return a slice of a shared 8 KiB pool.
 * - u64 values above Number.MAX_SAFE_INTEGER clamp to it, since domain numbers stay below 2^53 (types.ts). A
 *   clamped match_seq_num can never match and a clamped timestamp is capped by the engine anyway.
 */
import { Reader } from "protobufjs/minimal.js";
import type {
  AppendAck,
  AppendInput,
  AppendRecord,
  Header,
  ReadBatch,
  SequencedRecord,
  StreamPosition,
} from "../../domain/types.js";
import { err, ok, type Result } from "../../lib/result.js";
import { s2 } from "./gen/s2.js";

const pb = s2.v1;
type PbStreamPosition = s2.v1.StreamPosition.$Properties;
type PbHeader = s2.v1.Header.$Properties;
type PbAppendRecord = s2.v1.AppendRecord.$Properties;
type PbAppendInput = s2.v1.AppendInput.$Properties;
type PbSequencedRecord = s2.v1.SequencedRecord.$Properties;
type PbReadBatch = s2.v1.ReadBatch.$Properties;

export function decodeAppendInput(bytes: Uint8Array): Result<AppendInput, string> {
  return decodeChecked("AppendInput", bytes, (reader) => {
    const message = pb.AppendInput.decode(reader);
    checkUnknowns(message, 3, "AppendInput");
    const input: AppendInput = { records: message.records.map(fromAppendRecord) };
    if (message.matchSeqNum != null) input.matchSeqNum = toSafeNumber(message.matchSeqNum);
    if (message.fencingToken != null) input.fencingToken = message.fencingToken;
    return input;
  });
}

export function encodeAppendInput(input: AppendInput): Uint8Array {
  const message: PbAppendInput = { records: input.records.map(toAppendRecord) };
  if (input.matchSeqNum !== undefined) message.matchSeqNum = input.matchSeqNum;
  if (input.fencingToken !== undefined) message.fencingToken = input.fencingToken;
  return finish(pb.AppendInput.encode(message));
}

export function encodeAppendAck(ack: AppendAck): Uint8Array {
  return finish(pb.AppendAck.encode({ start: ack.start, end: ack.end, tail: ack.tail }));
}

/** For clients of our own server (tests, sessions); the server always sets all three positions (§16). */
export function decodeAppendAck(bytes: Uint8Array): Result<AppendAck, string> {
  return decodeChecked("AppendAck", bytes, (reader) => {
    const message = pb.AppendAck.decode(reader);
    checkUnknowns(message, 3, "AppendAck");
    const { start, end, tail } = message;
    if (start == null || end == null || tail == null) throw new Error("start, end and tail are required");
    return { start: fromPosition(start), end: fromPosition(end), tail: fromPosition(tail) };
  });
}

export function encodeReadBatch(batch: ReadBatch): Uint8Array {
  const message: PbReadBatch = { records: batch.records.map(toSequencedRecord) };
  if (batch.tail !== undefined) message.tail = batch.tail;
  return finish(pb.ReadBatch.encode(message));
}

export function decodeReadBatch(bytes: Uint8Array): Result<ReadBatch, string> {
  return decodeChecked("ReadBatch", bytes, (reader) => {
    const message = pb.ReadBatch.decode(reader);
    checkUnknowns(message, 2, "ReadBatch");
    const batch: ReadBatch = { records: message.records.map(fromSequencedRecord) };
    if (message.tail != null) batch.tail = fromPosition(message.tail);
    return batch;
  });
}

/** protobufjs types u64 as number | Long; Long is structural here so that no `long` import is needed. */
type U64 = number | { low: number; high: number };

/** The largest high word whose value stays within Number.MAX_SAFE_INTEGER (2^53 − 1). */
const SAFE_HIGH_MAX = 0x1f_ffff;

function toSafeNumber(value: U64 | null | undefined): number {
  if (value == null) return 0;
  if (typeof value === "number") return Math.min(value, Number.MAX_SAFE_INTEGER);
  const high = value.high >>> 0;
  if (high > SAFE_HIGH_MAX) return Number.MAX_SAFE_INTEGER;
  return high * 2 ** 32 + (value.low >>> 0);
}

/** `new Uint8Array(view)` copies into a standalone buffer of exactly the view's length. */
const copyBytes = (bytes: Uint8Array | null | undefined): Uint8Array =>
  bytes ? new Uint8Array(bytes) : new Uint8Array(0);

const fromHeader = (header: PbHeader): Header => [copyBytes(header.name), copyBytes(header.value)];

const toHeader = ([name, value]: Header): PbHeader => ({ name, value });

function fromPosition(position: PbStreamPosition): StreamPosition {
  checkUnknowns(position, 2, "StreamPosition");
  return { seqNum: toSafeNumber(position.seqNum), timestamp: toSafeNumber(position.timestamp) };
}

function fromAppendRecord(record: PbAppendRecord): AppendRecord {
  checkUnknowns(record, 3, "AppendRecord");
  const headers = (record.headers ?? []).map((header) => {
    checkUnknowns(header, 2, "Header");
    return fromHeader(header);
  });
  const result: AppendRecord = { headers, body: copyBytes(record.body) };
  if (record.timestamp != null) result.timestamp = toSafeNumber(record.timestamp);
  return result;
}

function toAppendRecord(record: AppendRecord): PbAppendRecord {
  const message: PbAppendRecord = { headers: record.headers.map(toHeader), body: record.body };
  if (record.timestamp !== undefined) message.timestamp = record.timestamp;
  return message;
}

function fromSequencedRecord(record: PbSequencedRecord): SequencedRecord {
  checkUnknowns(record, 4, "SequencedRecord");
  const headers = (record.headers ?? []).map((header) => {
    checkUnknowns(header, 2, "Header");
    return fromHeader(header);
  });
  return {
    seqNum: toSafeNumber(record.seqNum),
    timestamp: toSafeNumber(record.timestamp),
    headers,
    body: copyBytes(record.body),
  };
}

function toSequencedRecord(record: SequencedRecord): PbSequencedRecord {
  return {
    seqNum: record.seqNum,
    timestamp: record.timestamp,
    headers: record.headers.map(toHeader),
    body: record.body,
  };
}

/** Runs a decode with unknown fields kept, so that checkUnknowns can see them, and turns any throw into an Err. */
function decodeChecked<T>(what: string, bytes: Uint8Array, decode: (reader: Reader) => T): Result<T, string> {
  try {
    const reader = new Reader(bytes);
    reader.discardUnknown = false;
    return ok(decode(reader));
  } catch (e) {
    return err(`invalid protobuf ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Our messages number their fields 1..fieldCount, so a kept "unknown" field within that range is a known field
 * that arrived with the wrong wire type. Genuinely unknown fields (higher numbers) are skipped, as proto3 says.
 */
function checkUnknowns(message: { $unknowns?: Uint8Array[] }, fieldCount: number, what: string): void {
  for (const raw of message.$unknowns ?? []) {
    const field = new Reader(raw).uint32() >>> 3;
    if (field <= fieldCount) throw new Error(`${what} field ${field} has the wrong wire type`);
  }
}

/** Copies out of the writer so that the result owns exactly its bytes (see the header). */
function finish(writer: { pos: number; finishInto(buf: Uint8Array): Uint8Array }): Uint8Array {
  const out = new Uint8Array(writer.pos);
  writer.finishInto(out);
  return out;
}
