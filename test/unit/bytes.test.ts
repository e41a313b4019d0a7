import { describe, expect, it } from "vitest";
import { bytesEqual, concatBytes, fromBase64, fromUtf8Lossy, fromUtf8Strict, toBase64, utf8 } from "../../src/lib/bytes";
import { bytes } from "./support";

describe("fromBase64 (standard, padded: S2-API §8.5)", () => {
  it("decodes padded standard base64", () => {
    expect(fromBase64("")).toEqual(bytes());
    expect(fromBase64("QQ==")).toEqual(bytes(0x41));
    expect(fromBase64("QUI=")).toEqual(bytes(0x41, 0x42));
    expect(fromBase64("QUJD")).toEqual(bytes(0x41, 0x42, 0x43));
    expect(fromBase64("dHJpbQ==")).toEqual(utf8("trim"));
    expect(fromBase64("AAAAAAAAAAo=")).toEqual(bytes(0, 0, 0, 0, 0, 0, 0, 10));
    expect(fromBase64("+/+/")).toEqual(bytes(0xfb, 0xff, 0xbf));
  });

  it("requires padding", () => {
    for (const text of ["QQ", "QUI", "QQ=", "dHJpbQ", "AAAAAAAAAAo"]) expect(fromBase64(text), text).toBeUndefined();
  });

  it("rejects invalid characters, URL-safe alphabet and whitespace", () => {
    for (const text of ["QU!D", "-_-_", "QUJD\n", " QUJD", "QU JD", "QUJ\u00e9", "QUJD\0"]) {
      expect(fromBase64(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it("rejects misplaced or excess padding", () => {
    for (const text of ["=", "====", "Q===", "QQ==QQ==", "QUI==", "Q=Q=", "QQ==="]) expect(fromBase64(text), text).toBeUndefined();
  });
});

describe("toBase64", () => {
  it("emits padded standard base64", () => {
    expect(toBase64(bytes())).toBe("");
    expect(toBase64(bytes(0x41))).toBe("QQ==");
    expect(toBase64(utf8("fence"))).toBe("ZmVuY2U=");
    expect(toBase64(bytes(0xfb, 0xff, 0xbf))).toBe("+/+/");
  });

  it("round-trips every byte value and inputs larger than one chunk", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromBase64(toBase64(all))).toEqual(all);
    const large = Uint8Array.from({ length: 0x8000 * 3 + 7 }, (_, i) => (i * 31) & 0xff);
    expect(fromBase64(toBase64(large))).toEqual(large);
  });
});

describe("UTF-8", () => {
  it("encodes strings to UTF-8 bytes", () => {
    expect(utf8("é😀")).toEqual(bytes(0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80));
  });

  it("decodes lossily with U+FFFD for invalid sequences", () => {
    expect(fromUtf8Lossy(bytes(0xff))).toBe("\uFFFD");
    expect(fromUtf8Lossy(bytes(0x61, 0xff, 0x62))).toBe("a\uFFFDb");
    expect(fromUtf8Lossy(bytes(0xc3))).toBe("\uFFFD"); // truncated sequence
    expect(fromUtf8Lossy(utf8("ok é"))).toBe("ok é");
  });

  it("keeps a leading BOM as data", () => {
    expect(fromUtf8Lossy(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe("\uFEFFa");
    expect(fromUtf8Strict(bytes(0xef, 0xbb, 0xbf))).toBe("\uFEFF");
  });

  it("decodes strictly or returns undefined", () => {
    expect(fromUtf8Strict(utf8("héllo"))).toBe("héllo");
    expect(fromUtf8Strict(bytes())).toBe("");
    expect(fromUtf8Strict(bytes(0xff))).toBeUndefined();
    expect(fromUtf8Strict(bytes(0xed, 0xa0, 0x80))).toBeUndefined(); // encoded surrogate
  });
});

describe("bytesEqual and concatBytes", () => {
  it("compares by content and length", () => {
    expect(bytesEqual(bytes(1, 2), bytes(1, 2))).toBe(true);
    expect(bytesEqual(bytes(1, 2), bytes(1, 3))).toBe(false);
    expect(bytesEqual(bytes(1, 2), bytes(1, 2, 0))).toBe(false);
    expect(bytesEqual(bytes(), bytes())).toBe(true);
  });

  it("concatenates in order", () => {
    expect(concatBytes([bytes(1), bytes(), bytes(2, 3)])).toEqual(bytes(1, 2, 3));
    expect(concatBytes([])).toEqual(bytes());
  });
});
