import { describe, expect, it } from "vitest";
import { basinName, isValidBasinName, streamName } from "../support/names";

// The e2e suite trusts these helpers; a bad name would turn every basin test into a 400.
describe("test name helpers", () => {
  it("produces valid, distinct basin names for any prefix", () => {
    const prefixes = ["e2e", "", "UPPER case!", "-x-", "a".repeat(60), "basins-list"];
    const seen = new Set<string>();
    for (const p of prefixes) {
      const name = basinName(p);
      expect(isValidBasinName(name), name).toBe(true);
      expect(name.length).toBeGreaterThanOrEqual(8);
      expect(name.length).toBeLessThanOrEqual(48);
      seen.add(name);
    }
    expect(seen.size).toBe(prefixes.length);
  });

  it("validates basin names per the S2 rules", () => {
    expect(isValidBasinName("abcdefgh")).toBe(true);
    expect(isValidBasinName("abc-1234")).toBe(true);
    expect(isValidBasinName("abcdefg")).toBe(false);
    expect(isValidBasinName("-abcdefgh")).toBe(false);
    expect(isValidBasinName("abcdefgh-")).toBe(false);
    expect(isValidBasinName("Abcdefgh")).toBe(false);
    expect(isValidBasinName("a".repeat(49))).toBe(false);
  });

  it("produces distinct stream names", () => {
    expect(streamName("x")).not.toBe(streamName("x"));
    expect(streamName("x")).toMatch(/^x-[a-z0-9]{10}$/);
  });
});
