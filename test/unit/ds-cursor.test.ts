import { describe, expect, it } from "vitest";
import { currentInterval, CURSOR_INTERVAL_MS, nextCursor } from "../../src/protocol/ds/cursor";

const EPOCH = Date.UTC(2024, 9, 9);

describe("cursors (PROTOCOL.md §10.1)", () => {
  it("counts 20 s intervals since 2024-10-09 as decimal digits", () => {
    expect(currentInterval(EPOCH)).toBe(0);
    expect(currentInterval(EPOCH + CURSOR_INTERVAL_MS - 1)).toBe(0);
    expect(currentInterval(EPOCH + 5 * CURSOR_INTERVAL_MS)).toBe(5);
    expect(nextCursor(EPOCH + 5 * CURSOR_INTERVAL_MS, undefined)).toMatch(/^\d+$/);
  });

  it("returns the current interval for a missing, unparsable or older client cursor", () => {
    const now = EPOCH + 100 * CURSOR_INTERVAL_MS;
    for (const client of [undefined, null, "", "abc", "-5", "99", "1e3"]) expect(nextCursor(now, client)).toBe("100");
  });

  it("jumps strictly past a client cursor at or ahead of the current interval, by 1 to 180 intervals", () => {
    const now = EPOCH + 100 * CURSOR_INTERVAL_MS;
    expect(nextCursor(now, "100", () => 0)).toBe("101");
    expect(nextCursor(now, "100", () => 0.999999)).toBe("280");
    expect(nextCursor(now, "5000", () => 0)).toBe("5001");
  });
});
