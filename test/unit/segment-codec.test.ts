import { describe, expect, it } from "vitest";
import { encodeRecordBatch } from "../../src/domain/record-codec";
import type { SequencedRecord } from "../../src/domain/types";
import { crc32 } from "../../src/lib/crc32";
import { decodeSegmentBlock, encodeSegment, readSegmentIndex, SegmentCorrupt, type SegmentBlockInput } from "../../src/storage/segment-codec";

const enc = new TextEncoder();

function block(startSeqNum: number, bodies: string[], timestamp: number): { input: SegmentBlockInput; records: SequencedRecord[] } {
  const records = bodies.map((body, i): SequencedRecord => ({
    seqNum: startSeqNum + i, timestamp: timestamp + i, headers: [[enc.encode("h"), enc.encode(String(i))]], body: enc.encode(body),
  }));
  const input = { startSeqNum, endSeqNum: startSeqNum + bodies.length, lastTimestamp: timestamp + bodies.length - 1, records: encodeRecordBatch(records) };
  return { input, records };
}

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });
});

describe("segment codec", () => {
  const a = block(10, ["a", "bb", ""], 1000);
  const b = block(13, ["ccc"], 2000);
  const segment = encodeSegment([a.input, b.input]);

  it("indexes every block so one ranged get returns exactly its records", () => {
    expect(segment.blocks.map((ref) => ref.startSeqNum)).toEqual([10, 13]);
    expect(segment.blocks.map((ref) => ref.lastTimestamp)).toEqual([1002, 2000]);
    for (const [i, ref] of segment.blocks.entries()) {
      const bytes = segment.bytes.subarray(ref.offset, ref.offset + ref.size);
      expect(decodeSegmentBlock(bytes)).toEqual([a.records, b.records][i]);
    }
  });

  it("the footer index equals the one returned at encode time", () => {
    expect(readSegmentIndex(segment.bytes)).toEqual(segment.blocks);
  });

  it("header names the range and version", () => {
    const view = new DataView(segment.bytes.buffer);
    expect(new TextDecoder().decode(segment.bytes.subarray(0, 4))).toBe("ESEG");
    expect(view.getUint8(4)).toBe(1);
    expect(Number(view.getBigUint64(8))).toBe(10);
    expect(Number(view.getBigUint64(16))).toBe(14);
  });

  it("a flipped bit in a block fails its checksum", () => {
    const ref = segment.blocks[0]!;
    const bytes = segment.bytes.slice(ref.offset, ref.offset + ref.size);
    bytes[bytes.length - 1]! ^= 1;
    expect(() => decodeSegmentBlock(bytes)).toThrow(SegmentCorrupt);
    expect(() => decodeSegmentBlock(bytes.subarray(0, 10))).toThrow(SegmentCorrupt);
  });

  it("a flipped bit anywhere fails the whole-object checksum", () => {
    const bytes = segment.bytes.slice();
    bytes[40]! ^= 0x10;
    expect(() => readSegmentIndex(bytes)).toThrow(/checksum/);
    const versioned = segment.bytes.slice();
    versioned[4] = 2;
    expect(() => readSegmentIndex(versioned)).toThrow(/version/);
  });

  it("refuses an empty segment", () => {
    expect(() => encodeSegment([])).toThrow(RangeError);
  });
});
