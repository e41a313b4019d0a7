import { describe, expect, it } from "vitest";
import { readVarint, varintLength, writeVarint } from "../../src/lib/varint";
import { bytes } from "./support";

const encode = (value: number) => {
  const out = new Uint8Array(varintLength(value));
  expect(writeVarint(out, 0, value)).toBe(out.length);
  return out;
};

describe("varint", () => {
  it("encodes LEB128 byte for byte", () => {
    expect(encode(0)).toEqual(bytes(0));
    expect(encode(1)).toEqual(bytes(1));
    expect(encode(127)).toEqual(bytes(0x7f));
    expect(encode(128)).toEqual(bytes(0x80, 0x01));
    expect(encode(300)).toEqual(bytes(0xac, 0x02));
    expect(encode(16384)).toEqual(bytes(0x80, 0x80, 0x01));
    expect(encode(2 ** 32)).toEqual(bytes(0x80, 0x80, 0x80, 0x80, 0x10));
    expect(encode(Number.MAX_SAFE_INTEGER)).toEqual(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f));
  });

  it("computes lengths at every 7-bit boundary", () => {
    for (let bits = 7; bits <= 49; bits += 7) {
      expect(varintLength(2 ** bits - 1), `2^${bits}-1`).toBe(bits / 7);
      expect(varintLength(2 ** bits), `2^${bits}`).toBe(bits / 7 + 1);
    }
    expect(varintLength(Number.MAX_SAFE_INTEGER)).toBe(8);
  });

  it("round-trips values up to 2^53 - 1", () => {
    const values = [0, 1, 127, 128, 255, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 3, 2 ** 49, 2 ** 52 + 1];
    values.push(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER);
    for (const value of values) {
      const encoded = encode(value);
      expect(readVarint(encoded, 0), String(value)).toEqual([value, encoded.length]);
    }
  });

  it("writes and reads at an offset, back to back", () => {
    const out = new Uint8Array(20);
    let offset = writeVarint(out, 3, 300);
    offset = writeVarint(out, offset, 5);
    expect(offset).toBe(6);
    const [first, next] = readVarint(out, 3);
    expect([first, next]).toEqual([300, 5]);
    expect(readVarint(out, next)).toEqual([5, 6]);
  });

  it("throws on truncation", () => {
    expect(() => readVarint(bytes(), 0)).toThrow(RangeError);
    expect(() => readVarint(bytes(0x80), 0)).toThrow(RangeError);
    expect(() => readVarint(bytes(0xff, 0xff), 0)).toThrow(RangeError);
    expect(() => readVarint(bytes(0x01), 1)).toThrow(RangeError);
  });

  it("throws on values of 2^53 and above", () => {
    expect(() => readVarint(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 0)).toThrow(RangeError); // 2^53
    expect(() => readVarint(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0)).toThrow(RangeError); // 2^64 - 1
  });
});
