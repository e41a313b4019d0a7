import { describe, expect, it } from "vitest";
import { encodeRecordBatch } from "../../src/domain/record-codec";
import type { SequencedRecord } from "../../src/domain/types";
import { crc32 } from "../../src/lib/crc32";
import {
  decodeSegmentBlock, encodeSegment, readSegmentIndex, SegmentCorrupt, type EncodedSegment, type SegmentBlockInput,
} from "../../src/storage/segment-codec";

const enc = new TextEncoder();

function block(startSeqNum: number, bodies: string[], timestamp: number): { input: SegmentBlockInput; records: SequencedRecord[] } {
  const records = bodies.map((body, i): SequencedRecord => ({
    seqNum: startSeqNum + i, timestamp: timestamp + i, headers: [[enc.encode("h"), enc.encode(String(i))]], body: enc.encode(body),
  }));
  const input = { startSeqNum, endSeqNum: startSeqNum + bodies.length, lastTimestamp: timestamp + bodies.length - 1, records: encodeRecordBatch(records) };
  return { input, records };
}

/** encodeSegment without pauses, counting its steps. */
function encodeNow(inputs: readonly SegmentBlockInput[]): EncodedSegment & { steps: number[] } {
  const generator = encodeSegment(inputs);
  const steps: number[] = [];
  for (;;) {
    const step = generator.next();
    if (step.done) return { ...step.value, steps };
    steps.push(step.value);
  }
}

/** The textbook bytewise CRC-32, as the reference the sliced one must equal. */
function bytewiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("crc32", () => {
  it("matches the standard check values", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
    expect(crc32(enc.encode("a"))).toBe(0xe8b7be43);
    expect(crc32(enc.encode("abc"))).toBe(0x352441c2);
    expect(crc32(enc.encode("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it("equals the bytewise CRC at every length and alignment", () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 2654435761) >>> 13);
    for (let offset = 0; offset < 5; offset++) {
      for (let length = 0; length + offset <= bytes.length; length += length < 40 ? 1 : 37) {
        const piece = bytes.subarray(offset, offset + length);
        expect(crc32(piece), `offset ${offset} length ${length}`).toBe(bytewiseCrc32(piece));
      }
    }
  });

  it("continues over pieces as over their concatenation", () => {
    const bytes = enc.encode("The quick brown fox jumps over the lazy dog, twice: the quick brown fox");
    for (const cut of [0, 1, 17, 33, bytes.length]) {
      expect(crc32(bytes.subarray(cut), crc32(bytes.subarray(0, cut)))).toBe(crc32(bytes));
    }
  });
});

describe("segment codec", () => {
  const a = block(10, ["a", "bb", ""], 1000);
  const b = block(13, ["ccc"], 2000);
  const segment = encodeNow([a.input, b.input]);

  it("indexes every block so one ranged get returns exactly its records", () => {
    expect(segment.blocks.map((ref) => ref.startSeqNum)).toEqual([10, 13]);
    expect(segment.blocks.map((ref) => ref.lastTimestamp)).toEqual([1002, 2000]);
    for (const [i, ref] of segment.blocks.entries()) {
      const bytes = segment.bytes.subarray(ref.offset, ref.offset + ref.size);
      expect(decodeSegmentBlock(bytes, ref.startSeqNum)).toEqual([a.records, b.records][i]);
    }
  });

  it("pauses after each block, reporting the bytes encoded so far", () => {
    expect(segment.steps).toEqual(segment.blocks.map((ref) => ref.offset + ref.size));
  });

  it("the footer index equals the one returned at encode time", () => {
    expect(readSegmentIndex(segment.bytes)).toEqual(segment.blocks);
  });

  it("header names the range and version", () => {
    const view = new DataView(segment.bytes.buffer);
    expect(new TextDecoder().decode(segment.bytes.subarray(0, 4))).toBe("ESEG");
    expect(view.getUint8(4)).toBe(2);
    expect(Number(view.getBigUint64(8))).toBe(10);
    expect(Number(view.getBigUint64(16))).toBe(14);
  });

  it("a flipped bit in a block fails its checksum", () => {
    const ref = segment.blocks[0]!;
    const bytes = segment.bytes.slice(ref.offset, ref.offset + ref.size);
    bytes[bytes.length - 1]! ^= 1;
    expect(() => decodeSegmentBlock(bytes, ref.startSeqNum)).toThrow(SegmentCorrupt);
    expect(() => decodeSegmentBlock(bytes.subarray(0, 10), ref.startSeqNum)).toThrow(SegmentCorrupt);
  });

  it("every block header field is checked, against the index or the records", () => {
    const ref = segment.blocks[0]!;
    for (const [at, what] of [[7, /start/], [11, /count/], [19, /timestamp/], [23, /length/], [27, /checksum/]] as const) {
      const bytes = segment.bytes.slice(ref.offset, ref.offset + ref.size);
      bytes[at]! ^= 1;
      expect(() => decodeSegmentBlock(bytes, ref.startSeqNum), `byte ${at}`).toThrow(what);
    }
    const bytes = segment.bytes.subarray(ref.offset, ref.offset + ref.size);
    expect(() => decodeSegmentBlock(bytes, ref.startSeqNum + 1)).toThrow(/start/);
  });

  it("a flipped bit in the header or the index fails the footer checksum", () => {
    const indexAt = segment.bytes.length - 16 - 2 * 28;
    for (const at of [9, 20, indexAt + 3, indexAt + 28 + 20]) {
      const bytes = segment.bytes.slice();
      bytes[at]! ^= 0x10;
      expect(() => readSegmentIndex(bytes), `byte ${at}`).toThrow(/checksum|fit/);
    }
    const versioned = segment.bytes.slice();
    versioned[4] = 3;
    expect(() => readSegmentIndex(versioned)).toThrow(/version/);
  });

  it("still reads version 1, whose footer checksum covers every byte before it", () => {
    const v1 = segment.bytes.slice();
    const view = new DataView(v1.buffer);
    v1[4] = 1;
    const footerAt = v1.length - 16;
    view.setUint32(footerAt + 8, crc32(v1.subarray(0, footerAt)));
    expect(readSegmentIndex(v1)).toEqual(segment.blocks);
    v1[40]! ^= 0x10;
    expect(() => readSegmentIndex(v1)).toThrow(/checksum/);
  });

  it("refuses an empty segment", () => {
    expect(() => encodeNow([])).toThrow(RangeError);
  });
});
