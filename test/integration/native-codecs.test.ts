// Native codecs the Worker relies on, checked inside workerd (the unit tests run them in Node): lib/bytes.ts
// takes workerd's TC39 base64 methods (Node has none, and takes the fallback), and lib/crc32.ts node:zlib's crc32.
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, utf8 } from "../../src/lib/bytes";
import { crc32 } from "../../src/lib/crc32";

describe("base64 in workerd (native TC39 methods)", () => {
  it("runs on the native methods", () => {
    expect(typeof (Uint8Array.prototype as { toBase64?: unknown }).toBase64).toBe("function");
    expect(typeof (Uint8Array as { fromBase64?: unknown }).fromBase64).toBe("function");
  });

  it("encodes and decodes padded standard base64, every byte value, past one chunk", () => {
    expect(toBase64(utf8("fence"))).toBe("ZmVuY2U=");
    expect(fromBase64("+/+/")).toEqual(Uint8Array.of(0xfb, 0xff, 0xbf));
    const large = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) & 0xff);
    expect(fromBase64(toBase64(large))).toEqual(large);
  });

  it("still refuses what S2 does not accept: no padding, URL-safe alphabet, whitespace", () => {
    for (const text of ["QQ", "QUI", "-_-_", "QUJD\n", " QUJD", "QQ==="]) expect(fromBase64(text), JSON.stringify(text)).toBeUndefined();
  });
});

describe("crc32 in workerd (node:zlib)", () => {
  it("gives the standard check values, on views into larger buffers too, and continues over pieces", () => {
    expect(crc32(utf8("123456789"))).toBe(0xcbf43926);
    const padded = utf8("xx123456789yy");
    expect(crc32(padded.subarray(2, 11))).toBe(0xcbf43926);
    expect(crc32(utf8("56789"), crc32(utf8("1234")))).toBe(0xcbf43926);
  });
});
