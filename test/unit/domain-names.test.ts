import { describe, expect, it } from "vitest";
import { checkBasinName, checkBasinPrefix, checkStreamName, checkStreamPrefix } from "../../src/domain/names";

// S2-API §3. (test/unit/names.test.ts covers the e2e name helpers, not these validators.)
const valid = (problem: string | undefined) => problem === undefined;

describe("checkBasinName", () => {
  it("accepts 8 to 48 characters of a-z, 0-9 and inner hyphens", () => {
    for (const name of ["abcdefgh", "a".repeat(48), "12345678", "a-b-c-d-e", "my-basin-01", "0a------b"]) {
      expect(checkBasinName(name), name).toBeUndefined();
    }
  });

  it("rejects names outside 8..48 bytes", () => {
    expect(valid(checkBasinName(""))).toBe(false);
    expect(valid(checkBasinName("abcdefg"))).toBe(false);
    expect(valid(checkBasinName("a".repeat(49)))).toBe(false);
  });

  it("rejects a leading or trailing hyphen", () => {
    expect(valid(checkBasinName("-abcdefgh"))).toBe(false);
    expect(valid(checkBasinName("abcdefgh-"))).toBe(false);
    expect(valid(checkBasinName("--------"))).toBe(false);
  });

  it("rejects uppercase, underscores, dots, spaces, non-ASCII and NUL", () => {
    for (const name of ["Abcdefgh", "abcd_efgh", "abcd.efgh", "abcd efgh", "abcdéfgh", "abcd\0efgh", "abcdefgh\n"]) {
      expect(valid(checkBasinName(name)), JSON.stringify(name)).toBe(false);
    }
  });

  it("returns a message for invalid names", () => {
    expect(checkBasinName("x")).toMatch(/basin name/);
  });
});

describe("checkBasinPrefix", () => {
  it("accepts the empty prefix, a trailing hyphen and up to 48 bytes", () => {
    for (const prefix of ["", "a", "0", "abc-", "a-b--", "a".repeat(48)]) {
      expect(checkBasinPrefix(prefix), prefix).toBeUndefined();
    }
  });

  it("rejects a leading hyphen, bad characters and more than 48 bytes", () => {
    for (const prefix of ["-", "-abc", "Abc", "a_b", "a.b", "é", "a\0", "a".repeat(49)]) {
      expect(valid(checkBasinPrefix(prefix)), JSON.stringify(prefix)).toBe(false);
    }
  });
});

describe("checkStreamName", () => {
  it("accepts 1..512 bytes of any UTF-8, including slashes and unicode", () => {
    for (const name of ["a", "a/b", "/", "...", ".a", "a.", "名前", "😀", " ", "x".repeat(512)]) {
      expect(checkStreamName(name), name.slice(0, 20)).toBeUndefined();
    }
  });

  it("rejects the empty name and more than 512 bytes", () => {
    expect(valid(checkStreamName(""))).toBe(false);
    expect(valid(checkStreamName("x".repeat(513)))).toBe(false);
  });

  it("measures the limit in UTF-8 bytes, not characters", () => {
    expect(checkStreamName("é".repeat(256))).toBeUndefined(); // 512 bytes
    expect(valid(checkStreamName("é".repeat(256) + "a"))).toBe(false); // 513 bytes, 257 chars
    expect(checkStreamName("😀".repeat(128))).toBeUndefined(); // 512 bytes, 256 UTF-16 units
    expect(valid(checkStreamName("😀".repeat(129)))).toBe(false); // 516 bytes
    expect(valid(checkStreamName("€".repeat(171)))).toBe(false); // 513 bytes, 171 chars
    expect(checkStreamName("€".repeat(170) + "ab")).toBeUndefined(); // 512 bytes
  });

  it("rejects exactly `.` and `..`", () => {
    expect(valid(checkStreamName("."))).toBe(false);
    expect(valid(checkStreamName(".."))).toBe(false);
  });

  it("rejects NUL anywhere (the safe tightening of §3)", () => {
    expect(valid(checkStreamName("\0"))).toBe(false);
    expect(valid(checkStreamName("a\0b"))).toBe(false);
  });
});

describe("checkStreamPrefix", () => {
  it("accepts empty, `.`, `..` and up to 512 bytes", () => {
    for (const prefix of ["", ".", "..", "a/", "é".repeat(256)]) {
      expect(checkStreamPrefix(prefix), prefix.slice(0, 10)).toBeUndefined();
    }
  });

  it("rejects more than 512 UTF-8 bytes and NUL", () => {
    expect(valid(checkStreamPrefix("é".repeat(257)))).toBe(false);
    expect(valid(checkStreamPrefix("x".repeat(513)))).toBe(false);
    expect(valid(checkStreamPrefix("a\0"))).toBe(false);
  });
});
