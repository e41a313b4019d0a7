import { describe, expect, it } from "vitest";
import { meteredBytes } from "../../src/domain/metering";
import type { Header, SequencedRecord } from "../../src/domain/types";
import { utf8 } from "../../src/lib/bytes";
import { decodeRecordBatch, encodeRecordBatch } from "../../src/domain/record-codec";
import { bytes } from "./support";

const MIB = 1024 * 1024;
/** Durable Object SQLite's row limit (PLATFORM.md §1): one packed batch must stay below it. */
const ROW_BYTES_MAX = 2_000_000;

const rec = (seqNum: number, timestamp: number, headers: Header[], body: Uint8Array): SequencedRecord => ({ seqNum, timestamp, headers, body });
const roundTrip = (records: SequencedRecord[]) => decodeRecordBatch(encodeRecordBatch(records), records[0]?.seqNum ?? 0);
const batchMetered = (records: SequencedRecord[]) => records.reduce((sum, r) => sum + meteredBytes(r), 0);
const EMPTY_HEADER: Header = [new Uint8Array(), new Uint8Array()];
const emptyHeaders = (n: number): Header[] => new Array<Header>(n).fill(EMPTY_HEADER);

describe("record batch codec round trip", () => {
  it("encodes an empty batch as zero bytes", () => {
    expect(encodeRecordBatch([]).length).toBe(0);
    expect(decodeRecordBatch(new Uint8Array(), 5)).toEqual([]);
  });

  it("round-trips empty bodies and empty headers", () => {
    const records = [rec(0, 0, [], new Uint8Array()), rec(1, 1, [[new Uint8Array(), new Uint8Array()]], new Uint8Array())];
    expect(roundTrip(records)).toEqual(records);
  });

  it("round-trips binary headers and bodies", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const records = [rec(7, 42, [[bytes(0, 0xff, 0x80), all], [all, bytes()]], all), rec(8, 42, [[bytes(0xc3), bytes(0x28)]], bytes(0))];
    expect(roundTrip(records)).toEqual(records);
  });

  it("round-trips many headers, preserving order and duplicates", () => {
    const headers: Header[] = Array.from({ length: 300 }, (_, i) => [utf8(`h${i % 7}`), utf8(String(i))] as const);
    const records = [rec(100, 5, headers, utf8("body"))];
    const decoded = roundTrip(records);
    expect(decoded).toEqual(records);
    expect(decoded[0]!.headers.length).toBe(300);
  });

  it("round-trips timestamps near 2^53", () => {
    const big = [0, 127, 128, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER];
    const records = big.map((timestamp, i) => rec(i, timestamp, [], bytes(i)));
    expect(roundTrip(records)).toEqual(records);
  });

  it("round-trips lengths across varint boundaries", () => {
    const records = [127, 128, 16383, 16384, 70000].map((n, i) => rec(i, i, [[new Uint8Array(n), new Uint8Array(n % 200)]], new Uint8Array(n).fill(7)));
    expect(roundTrip(records)).toEqual(records);
  });

  it("assigns seq nums from the given start", () => {
    const encoded = encodeRecordBatch([rec(0, 1, [], bytes(1)), rec(1, 2, [], bytes(2)), rec(2, 3, [], bytes(3))]);
    expect(decodeRecordBatch(encoded, 1000).map((r) => r.seqNum)).toEqual([1000, 1001, 1002]);
    expect(decodeRecordBatch(encoded, Number.MAX_SAFE_INTEGER - 3).map((r) => r.seqNum)).toEqual([
      Number.MAX_SAFE_INTEGER - 3,
      Number.MAX_SAFE_INTEGER - 2,
      Number.MAX_SAFE_INTEGER - 1,
    ]);
  });

  it("decodes copies, not views of the packed bytes", () => {
    const encoded = encodeRecordBatch([rec(0, 1, [[utf8("k"), utf8("v")]], utf8("body"))]);
    const decoded = decodeRecordBatch(encoded, 0);
    encoded.fill(0);
    expect(decoded[0]!.body).toEqual(utf8("body"));
    expect(decoded[0]!.headers[0]).toEqual([utf8("k"), utf8("v")]);
  });

  it("decodes views of the packed bytes when asked to share them", () => {
    const encoded = encodeRecordBatch([rec(0, 1, [[utf8("k"), utf8("v")]], utf8("body"))]);
    const decoded = decodeRecordBatch(encoded, 0, true);
    expect(decoded[0]!.body).toEqual(utf8("body"));
    expect(decoded[0]!.body.buffer).toBe(encoded.buffer);
    expect(decoded[0]!.headers[0]![1].buffer).toBe(encoded.buffer);
  });
});

describe("record batch codec: corruption", () => {
  it("throws on truncation anywhere", () => {
    const encoded = encodeRecordBatch([rec(0, 300, [[utf8("name"), utf8("value")]], utf8("hello world"))]);
    for (let cut = 1; cut < encoded.length; cut++) {
      expect(() => decodeRecordBatch(encoded.subarray(0, cut), 0), `cut at ${cut}`).toThrow(RangeError);
    }
  });
});

describe("packed size of a full 1 MiB metered batch stays under the row limit", () => {
  const check = (records: SequencedRecord[]) => {
    expect(batchMetered(records)).toBeLessThanOrEqual(MIB);
    const packed = encodeRecordBatch(records);
    expect(packed.length).toBeLessThan(ROW_BYTES_MAX);
    expect(decodeRecordBatch(packed, 0).length).toBe(records.length);
    return packed.length;
  };

  it("1000 records of many empty headers, with 2^53-range timestamps", () => {
    // 8 + 2 × 520 = 1048 metered per record; 1000 records = 1,048,000.
    const records = Array.from({ length: 1000 }, (_, i) => rec(i, Number.MAX_SAFE_INTEGER, emptyHeaders(520), new Uint8Array()));
    const packed = check(records);
    expect(packed).toBeLessThanOrEqual(batchMetered(records) + 1000 * 8);
  });

  it("one record made entirely of empty headers", () => {
    check([rec(0, Number.MAX_SAFE_INTEGER, emptyHeaders((MIB - 8) / 2), new Uint8Array())]);
  });

  it("1000 empty records and 1000 records with 128-byte header names", () => {
    check(Array.from({ length: 1000 }, (_, i) => rec(i, Number.MAX_SAFE_INTEGER, [], new Uint8Array())));
    // 8 + 3 × (2 + 128 + 128) = 782 metered per record: every length needs a 2-byte varint.
    const h = (): Header => [new Uint8Array(128), new Uint8Array(128)];
    check(Array.from({ length: 1000 }, (_, i) => rec(i, Number.MAX_SAFE_INTEGER, [h(), h(), h()], new Uint8Array(266))));
  });

  it("one record with a 1 MiB body", () => {
    const packed = check([rec(0, Number.MAX_SAFE_INTEGER, [], new Uint8Array(MIB - 8))]);
    // 8-byte timestamp + 1-byte header count + 3-byte body length + body.
    expect(packed).toBe(8 + 1 + 3 + MIB - 8);
  });
});
