/**
 * Packed record batches: the bytes of one `record_batches` row, of each live push to followers
 * (protocol/live.ts) and, later, of sealed segments. Records are packed because Durable Object SQLite bills
 * per row written; one append batch is one row.
 *
 *   batch  := record*                      count = end_seq_num − start_seq_num (kept in the row, not here)
 *   record := timestamp   varint           ms since the Unix epoch
 *             headers     varint           number of headers
 *             ( name_len varint, name bytes, value_len varint, value bytes ) × headers
 *             body_len    varint
 *             body        bytes
 *
 * Seq nums are implicit: the i-th record has seq num start_seq_num + i. Varint lengths keep the packed size
 * within a few bytes per record of the metered size, so a 1 MiB metered batch stays far below the 2 MB row
 * limit (PLATFORM.md §1).
 */
import type { SequencedRecord } from "./types";
import { readVarint, varintLength, writeVarint } from "../lib/varint";

export function encodeRecordBatch(records: readonly SequencedRecord[]): Uint8Array {
  let size = 0;
  for (const record of records) {
    size += varintLength(record.timestamp) + varintLength(record.headers.length);
    for (const [name, value] of record.headers) size += varintLength(name.length) + name.length + varintLength(value.length) + value.length;
    size += varintLength(record.body.length) + record.body.length;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  const put = (bytes: Uint8Array) => {
    offset = writeVarint(out, offset, bytes.length);
    out.set(bytes, offset);
    offset += bytes.length;
  };
  for (const record of records) {
    offset = writeVarint(out, offset, record.timestamp);
    offset = writeVarint(out, offset, record.headers.length);
    for (const [name, value] of record.headers) {
      put(name);
      put(value);
    }
    put(record.body);
  }
  return out;
}

/**
 * The records of a packed batch, copied out of `bytes`, or with `share`, as views into `bytes`. Sharing saves
 * a copy and an allocation per record (a tenth of a catch-up read's cost, at a megabyte per batch) but keeps
 * all of `bytes` alive with any record, and sends all of it with any record over RPC: it is for bytes that
 * hold about what the caller returns (a segment range fetched for one batch), not for a tail row that a read
 * may take one record of. Shared bytes must not be written afterwards.
 */
export function decodeRecordBatch(bytes: Uint8Array, startSeqNum: number, share = false): SequencedRecord[] {
  const records: SequencedRecord[] = [];
  let offset = 0;
  const take = (): Uint8Array => {
    const [length, next] = readVarint(bytes, offset);
    if (next + length > bytes.length) throw new RangeError("truncated record batch");
    offset = next + length;
    return share ? bytes.subarray(next, offset) : bytes.slice(next, offset);
  };
  while (offset < bytes.length) {
    const [timestamp, afterTimestamp] = readVarint(bytes, offset);
    const [headerCount, afterCount] = readVarint(bytes, afterTimestamp);
    offset = afterCount;
    const headers: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < headerCount; i++) headers.push([take(), take()]);
    records.push({ seqNum: startSeqNum + records.length, timestamp, headers, body: take() });
  }
  return records;
}
