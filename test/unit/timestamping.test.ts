import { describe, expect, it } from "vitest";
import { assignTimestamps, type Timestamping } from "../../src/domain/timestamping";
import { unwrap, unwrapErr } from "./support";

// S2-API §9.4: base by mode → cap at arrival unless uncapped → raise to the previous timestamp.
const NOW = 1_000_000;
const prefer: Timestamping = { mode: "client-prefer", uncapped: false };
const require_: Timestamping = { mode: "client-require", uncapped: false };
const arrival: Timestamping = { mode: "arrival", uncapped: false };
const uncapped = (mode: Timestamping["mode"]): Timestamping => ({ mode, uncapped: true });

describe("client-prefer", () => {
  it("uses the client timestamp when given, arrival time otherwise", () => {
    expect(unwrap(assignTimestamps([500, undefined], prefer, NOW, 0))).toEqual([500, NOW]);
  });

  it("accepts timestamp 0", () => {
    expect(unwrap(assignTimestamps([0], prefer, NOW, 0))).toEqual([0]);
  });

  it("caps future timestamps at arrival", () => {
    expect(unwrap(assignTimestamps([NOW + 1, NOW * 10], prefer, NOW, 0))).toEqual([NOW, NOW]);
  });

  it("keeps future timestamps when uncapped", () => {
    expect(unwrap(assignTimestamps([NOW + 1, NOW * 10], uncapped("client-prefer"), NOW, 0))).toEqual([NOW + 1, NOW * 10]);
  });
});

describe("client-require", () => {
  it("uses client timestamps", () => {
    expect(unwrap(assignTimestamps([1, 2, 3], require_, NOW, 0))).toEqual([1, 2, 3]);
  });

  it("rejects the whole batch when any timestamp is missing", () => {
    const error = unwrapErr(assignTimestamps([1, undefined, 3], require_, NOW, 0));
    expect(error).toEqual({ code: "invalid", message: "record timestamp was required but was missing" });
    expect(assignTimestamps([undefined], uncapped("client-require"), NOW, 0).ok).toBe(false);
  });

  it("caps at arrival unless uncapped", () => {
    expect(unwrap(assignTimestamps([NOW + 5], require_, NOW, 0))).toEqual([NOW]);
    expect(unwrap(assignTimestamps([NOW + 5], uncapped("client-require"), NOW, 0))).toEqual([NOW + 5]);
  });
});

describe("arrival", () => {
  it("ignores client timestamps, present or not", () => {
    expect(unwrap(assignTimestamps([5, undefined, NOW * 2], arrival, NOW, 0))).toEqual([NOW, NOW, NOW]);
    expect(unwrap(assignTimestamps([NOW * 2], uncapped("arrival"), NOW, 0))).toEqual([NOW]);
  });

  it("is raised to the previous timestamp when the clock is behind", () => {
    expect(unwrap(assignTimestamps([undefined], arrival, NOW, NOW + 50))).toEqual([NOW + 50]);
  });
});

describe("monotonic raise", () => {
  it("raises a timestamp below the stream's previous one", () => {
    expect(unwrap(assignTimestamps([10], prefer, NOW, 100))).toEqual([100]);
  });

  it("raises within a batch, never lowers", () => {
    expect(unwrap(assignTimestamps([300, 200, 400, 0], prefer, NOW, 100))).toEqual([300, 300, 400, 400]);
  });

  it("applies the cap before the raise", () => {
    // Uncapped future ts is kept; the next, smaller one is raised to it.
    expect(unwrap(assignTimestamps([NOW + 100, NOW], uncapped("client-prefer"), NOW, 0))).toEqual([NOW + 100, NOW + 100]);
    // Previous already in the future (earlier uncapped append): a capped record is raised back above now.
    expect(unwrap(assignTimestamps([NOW + 100], prefer, NOW, NOW + 500))).toEqual([NOW + 500]);
  });

  it("mixes missing and given timestamps in order", () => {
    expect(unwrap(assignTimestamps([undefined, 5, NOW + 1], prefer, NOW, 0))).toEqual([NOW, NOW, NOW]);
  });
});

describe("edge values", () => {
  it("returns an empty list for an empty batch", () => {
    expect(unwrap(assignTimestamps([], require_, NOW, 0))).toEqual([]);
  });

  it("clamps client timestamps above 2^53 to the safe maximum", () => {
    expect(unwrap(assignTimestamps([2 ** 60], uncapped("client-prefer"), NOW, 0))).toEqual([Number.MAX_SAFE_INTEGER]);
    expect(unwrap(assignTimestamps([Number.MAX_SAFE_INTEGER], uncapped("client-require"), NOW, 0))).toEqual([Number.MAX_SAFE_INTEGER]);
  });
});
