/**
 * Sealed segments: immutable R2 objects holding a contiguous range of a stream's records. Version 1, all
 * integers big-endian:
 *
 *   +--------------------------------------------------------------------------------------------+
 *   | header, 32 bytes                                                                           |
 *   |   magic "ESEG" | version u8 = 1 | reserved u8 × 3 | start_seq u64 | end_seq u64 | blocks u32 |
 *   |   reserved u32                                                                             |
 *   +--------------------------------------------------------------------------------------------+
 *   | block × blocks: one former tail row each                                                   |
 *   |   start_seq u64 | records u32 | last_timestamp u64 | length u32 | crc32 u32 | packed records |
 *   |   (packed records: domain/record-codec.ts; each record is timestamp, headers, body, and its  |
 *   |    seq num is start_seq + its position in the block)                                       |
 *   +--------------------------------------------------------------------------------------------+
 *   | index: blocks × (start_seq u64 | last_timestamp u64 | offset u64 | size u32)               |
 *   | footer, 16 bytes: index_offset u64 | crc32 u32 of all bytes before the footer | "ESEG"       |
 *   +--------------------------------------------------------------------------------------------+
 *
 * The stream's object keeps the index in SQLite too, so a read fetches just the blocks it needs with a
 * ranged get and checks each block's own CRC; the footer makes a segment self-describing (an operator can
 * read one without the object) and its CRC covers the whole object.
 */
import { decodeRecordBatch } from "../domain/record-codec";
import type { SequencedRecord } from "../domain/types";
import { concatBytes } from "../lib/bytes";
import { crc32 } from "../lib/crc32";

const MAGIC = 0x45534547; // "ESEG"
const VERSION = 1;
const HEADER_BYTES = 32;
export const BLOCK_HEADER_BYTES = 28;
const INDEX_ENTRY_BYTES = 28;
const FOOTER_BYTES = 16;

/** One tail row as it enters a segment. */
export interface SegmentBlockInput {
  startSeqNum: number;
  endSeqNum: number;
  lastTimestamp: number;
  /** Packed records, exactly as stored in the row. */
  records: Uint8Array;
}

/** Where a block sits in its segment: what a ranged get needs. */
export interface SegmentBlockRef {
  startSeqNum: number;
  lastTimestamp: number;
  offset: number;
  size: number;
}

export interface EncodedSegment {
  bytes: Uint8Array;
  blocks: SegmentBlockRef[];
}

const setU64 = (view: DataView, offset: number, value: number) => view.setBigUint64(offset, BigInt(value));
const getU64 = (view: DataView, offset: number) => Number(view.getBigUint64(offset));

export function encodeSegment(inputs: readonly SegmentBlockInput[]): EncodedSegment {
  const first = inputs[0];
  const last = inputs[inputs.length - 1];
  if (!first || !last) throw new RangeError("a segment needs at least one block");
  const header = new Uint8Array(HEADER_BYTES);
  const headerView = new DataView(header.buffer);
  headerView.setUint32(0, MAGIC);
  headerView.setUint8(4, VERSION);
  setU64(headerView, 8, first.startSeqNum);
  setU64(headerView, 16, last.endSeqNum);
  headerView.setUint32(24, inputs.length);

  const parts: Uint8Array[] = [header];
  const blocks: SegmentBlockRef[] = [];
  let offset = HEADER_BYTES;
  for (const input of inputs) {
    const blockHeader = new Uint8Array(BLOCK_HEADER_BYTES);
    const view = new DataView(blockHeader.buffer);
    setU64(view, 0, input.startSeqNum);
    view.setUint32(8, input.endSeqNum - input.startSeqNum);
    setU64(view, 12, input.lastTimestamp);
    view.setUint32(20, input.records.length);
    view.setUint32(24, crc32(input.records));
    parts.push(blockHeader, input.records);
    const size = BLOCK_HEADER_BYTES + input.records.length;
    blocks.push({ startSeqNum: input.startSeqNum, lastTimestamp: input.lastTimestamp, offset, size });
    offset += size;
  }

  const index = new Uint8Array(blocks.length * INDEX_ENTRY_BYTES);
  const indexView = new DataView(index.buffer);
  blocks.forEach((block, i) => {
    const at = i * INDEX_ENTRY_BYTES;
    setU64(indexView, at, block.startSeqNum);
    setU64(indexView, at + 8, block.lastTimestamp);
    setU64(indexView, at + 16, block.offset);
    indexView.setUint32(at + 24, block.size);
  });
  parts.push(index);
  const body = concatBytes(parts);
  const footer = new Uint8Array(FOOTER_BYTES);
  const footerView = new DataView(footer.buffer);
  setU64(footerView, 0, offset);
  footerView.setUint32(8, crc32(body));
  footerView.setUint32(12, MAGIC);
  return { bytes: concatBytes([body, footer]), blocks };
}

/** Records of one block fetched by a ranged get; throws when the block is corrupt (CRC or framing). */
export function decodeSegmentBlock(bytes: Uint8Array): SequencedRecord[] {
  if (bytes.length < BLOCK_HEADER_BYTES) throw new SegmentCorrupt("block shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const startSeqNum = getU64(view, 0);
  const count = view.getUint32(8);
  const length = view.getUint32(20);
  const records = bytes.subarray(BLOCK_HEADER_BYTES);
  if (records.length !== length) throw new SegmentCorrupt("block length mismatch");
  if (crc32(records) !== view.getUint32(24)) throw new SegmentCorrupt("block checksum mismatch");
  const decoded = decodeRecordBatch(records, startSeqNum);
  if (decoded.length !== count) throw new SegmentCorrupt("block record count mismatch");
  return decoded;
}

/** Checks a whole segment (magic, version, whole-object CRC) and returns its block index. */
export function readSegmentIndex(bytes: Uint8Array): SegmentBlockRef[] {
  if (bytes.length < HEADER_BYTES + FOOTER_BYTES) throw new SegmentCorrupt("segment too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerAt = bytes.length - FOOTER_BYTES;
  if (view.getUint32(0) !== MAGIC || view.getUint32(footerAt + 12) !== MAGIC) throw new SegmentCorrupt("bad magic");
  if (view.getUint8(4) !== VERSION) throw new SegmentCorrupt(`unknown segment version ${view.getUint8(4)}`);
  if (crc32(bytes.subarray(0, footerAt)) !== view.getUint32(footerAt + 8)) throw new SegmentCorrupt("segment checksum mismatch");
  const indexAt = getU64(view, footerAt);
  const count = view.getUint32(24);
  if (indexAt + count * INDEX_ENTRY_BYTES !== footerAt) throw new SegmentCorrupt("index does not fit");
  return Array.from({ length: count }, (_, i) => {
    const at = indexAt + i * INDEX_ENTRY_BYTES;
    return { startSeqNum: getU64(view, at), lastTimestamp: getU64(view, at + 8), offset: getU64(view, at + 16), size: view.getUint32(at + 24) };
  });
}

export class SegmentCorrupt extends Error {}
