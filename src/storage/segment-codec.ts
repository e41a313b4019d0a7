/**
 * Sealed segments: immutable R2 objects holding a contiguous range of a stream's records. All integers
 * big-endian:
 *
 *   +--------------------------------------------------------------------------------------------+
 *   | header, 32 bytes                                                                           |
 *   |   magic "ESEG" | version u8 = 2 | reserved u8 × 3 | start_seq u64 | end_seq u64 | blocks u32 |
 *   |   reserved u32                                                                             |
 *   +--------------------------------------------------------------------------------------------+
 *   | block × blocks: one former tail row each                                                   |
 *   |   start_seq u64 | records u32 | last_timestamp u64 | length u32 | crc32 u32 | packed records |
 *   |   (packed records: domain/record-codec.ts; each record is timestamp, headers, body, and its  |
 *   |    seq num is start_seq + its position in the block; crc32 covers the packed records)      |
 *   +--------------------------------------------------------------------------------------------+
 *   | index: blocks × (start_seq u64 | last_timestamp u64 | offset u64 | size u32)               |
 *   | footer, 16 bytes: index_offset u64 | crc32 u32 | "ESEG"                                     |
 *   +--------------------------------------------------------------------------------------------+
 *
 * The footer's crc32 covers the header and the index (version 2), or, in version 1, every byte before the
 * footer. Version 2 checksums each record byte once, in its block, rather than twice (block and object):
 * sealing and a whole-segment check cost half as much, and a whole-segment check still covers every byte —
 * the footer's CRC the metadata, each block's CRC its records. Blocks are the same in both versions, so
 * readers of blocks need not know which version a segment is; readSegmentIndex reads both.
 *
 * The stream's object keeps the index in SQLite too, so a read fetches just the blocks it needs with a
 * ranged get and checks each block's own CRC; the footer makes a segment self-describing (an operator can
 * read one without the object).
 */
import { decodeRecordBatch } from "../domain/record-codec";
import type { SequencedRecord } from "../domain/types";
import { crc32 } from "../lib/crc32";

const MAGIC = 0x45534547; // "ESEG"
/** Version written; readSegmentIndex also reads version 1 (see above). */
const VERSION = 2;
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

/**
 * Encodes a segment into one buffer, block by block: the generator yields after each block how many bytes it
 * has encoded so far, so a caller can pause between blocks (sealing runs beside appends in the stream's
 * object), and returns the segment.
 */
export function* encodeSegment(inputs: readonly SegmentBlockInput[]): Generator<number, EncodedSegment, void> {
  const first = inputs[0];
  const last = inputs[inputs.length - 1];
  if (!first || !last) throw new RangeError("a segment needs at least one block");
  let indexAt = HEADER_BYTES;
  for (const input of inputs) indexAt += BLOCK_HEADER_BYTES + input.records.length;
  const footerAt = indexAt + inputs.length * INDEX_ENTRY_BYTES;
  const bytes = new Uint8Array(footerAt + FOOTER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint8(4, VERSION);
  setU64(view, 8, first.startSeqNum);
  setU64(view, 16, last.endSeqNum);
  view.setUint32(24, inputs.length);

  const blocks: SegmentBlockRef[] = [];
  let offset = HEADER_BYTES;
  for (const input of inputs) {
    setU64(view, offset, input.startSeqNum);
    view.setUint32(offset + 8, input.endSeqNum - input.startSeqNum);
    setU64(view, offset + 12, input.lastTimestamp);
    view.setUint32(offset + 20, input.records.length);
    view.setUint32(offset + 24, crc32(input.records));
    bytes.set(input.records, offset + BLOCK_HEADER_BYTES);
    const size = BLOCK_HEADER_BYTES + input.records.length;
    blocks.push({ startSeqNum: input.startSeqNum, lastTimestamp: input.lastTimestamp, offset, size });
    offset += size;
    yield offset;
  }

  blocks.forEach((block, i) => {
    const at = indexAt + i * INDEX_ENTRY_BYTES;
    setU64(view, at, block.startSeqNum);
    setU64(view, at + 8, block.lastTimestamp);
    setU64(view, at + 16, block.offset);
    view.setUint32(at + 24, block.size);
  });
  setU64(view, footerAt, indexAt);
  view.setUint32(footerAt + 8, metadataCrc(bytes, indexAt, footerAt));
  view.setUint32(footerAt + 12, MAGIC);
  return { bytes, blocks };
}

/** Version 2's footer CRC: the header, then the index. */
const metadataCrc = (bytes: Uint8Array, indexAt: number, footerAt: number) =>
  crc32(bytes.subarray(indexAt, footerAt), crc32(bytes.subarray(0, HEADER_BYTES)));

/**
 * Records of one block fetched by a ranged get, whose index entry says it starts at `startSeqNum`. Throws
 * when the block is corrupt: its CRC covers the records, and every header field is checked against the index
 * or the records themselves, so a block needs no other checksum to be trusted.
 */
export function decodeSegmentBlock(bytes: Uint8Array, startSeqNum: number): SequencedRecord[] {
  if (bytes.length < BLOCK_HEADER_BYTES) throw new SegmentCorrupt("block shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (getU64(view, 0) !== startSeqNum) throw new SegmentCorrupt("block start does not match the index");
  const count = view.getUint32(8);
  const length = view.getUint32(20);
  const records = bytes.subarray(BLOCK_HEADER_BYTES);
  if (records.length !== length) throw new SegmentCorrupt("block length mismatch");
  if (crc32(records) !== view.getUint32(24)) throw new SegmentCorrupt("block checksum mismatch");
  // A block's bytes are fetched for the read that decodes them, so its records may share them.
  const decoded = decodeRecordBatch(records, startSeqNum, true);
  if (decoded.length !== count) throw new SegmentCorrupt("block record count mismatch");
  if (count > 0 && decoded[count - 1]!.timestamp !== getU64(view, 12)) throw new SegmentCorrupt("block last timestamp mismatch");
  return decoded;
}

/**
 * Checks a whole segment's metadata (magic, version, footer CRC) and returns its block index. Version 2's
 * footer does not cover the blocks: decoding each block (decodeSegmentBlock) checks the rest.
 */
export function readSegmentIndex(bytes: Uint8Array): SegmentBlockRef[] {
  if (bytes.length < HEADER_BYTES + FOOTER_BYTES) throw new SegmentCorrupt("segment too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerAt = bytes.length - FOOTER_BYTES;
  if (view.getUint32(0) !== MAGIC || view.getUint32(footerAt + 12) !== MAGIC) throw new SegmentCorrupt("bad magic");
  const version = view.getUint8(4);
  if (version !== 1 && version !== VERSION) throw new SegmentCorrupt(`unknown segment version ${version}`);
  const indexAt = getU64(view, footerAt);
  const count = view.getUint32(24);
  if (indexAt + count * INDEX_ENTRY_BYTES !== footerAt) throw new SegmentCorrupt("index does not fit");
  const crc = version === 1 ? crc32(bytes.subarray(0, footerAt)) : metadataCrc(bytes, indexAt, footerAt);
  if (crc !== view.getUint32(footerAt + 8)) throw new SegmentCorrupt("segment checksum mismatch");
  return Array.from({ length: count }, (_, i) => {
    const at = indexAt + i * INDEX_ENTRY_BYTES;
    return { startSeqNum: getU64(view, at), lastTimestamp: getU64(view, at + 8), offset: getU64(view, at + 16), size: view.getUint32(at + 24) };
  });
}

export class SegmentCorrupt extends Error {}
