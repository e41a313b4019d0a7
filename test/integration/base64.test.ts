// lib/bytes.ts takes workerd's native base64 methods when they exist; the unit tests (Node) cover the fallback.
// Here, inside workerd, the native path must give the same answers.
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, utf8 } from "../../src/lib/bytes";

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
