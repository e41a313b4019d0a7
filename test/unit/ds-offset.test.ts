import { describe, expect, it } from "vitest";
import {
  offsetSeqNum, parseForkOffset, parseOffsetParam, renderOffset, START_OFFSET, startSeqNum,
} from "../../src/protocol/ds/offset";
import { unwrap, unwrapErr } from "./support";

const param = (query: string) => parseOffsetParam(new URLSearchParams(query));

describe("offsets: the pinned %016d_%016d shape", () => {
  it("renders the seq num in the left field, zero-padded, with a zero right field", () => {
    expect(renderOffset(0)).toBe("0000000000000000_0000000000000000");
    expect(renderOffset(42)).toBe("0000000000000042_0000000000000000");
    expect(renderOffset(Number.MAX_SAFE_INTEGER)).toBe("9007199254740991_0000000000000000");
    expect(START_OFFSET).toBe(renderOffset(0));
  });

  it("sorts like the stream: string order equals seq num order", () => {
    const seqNums = [0, 1, 9, 10, 99, 100, 123456789, 2 ** 40];
    const offsets = seqNums.map(renderOffset);
    expect([...offsets].sort()).toEqual(offsets);
  });

  it("round-trips, and reads a left field past 2^53 as beyond any tail", () => {
    for (const seqNum of [0, 7, 1_000_000, Number.MAX_SAFE_INTEGER]) expect(offsetSeqNum(renderOffset(seqNum))).toBe(seqNum);
    expect(offsetSeqNum("9999999999999999_0000000000000000")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses a non-zero right field: positions inside a record are never minted", () => {
    expect(offsetSeqNum("0000000000000001_0000000000000003")).toBeUndefined();
    expect(unwrapErr(parseForkOffset("9999999999999999_9999999999999999")).code).toBe("bad_header");
  });
});

describe("the offset query parameter (PROTOCOL.md §5.6)", () => {
  it("is undefined when absent, and knows the sentinels", () => {
    expect(unwrap(param(""))).toBeUndefined();
    expect(unwrap(param("offset=-1"))).toEqual({ kind: "start" });
    expect(unwrap(param("offset=now"))).toEqual({ kind: "tail" });
    expect(unwrap(param(`offset=${renderOffset(5)}`))).toEqual({ kind: "seq_num", seqNum: 5 });
  });

  it("rejects empty, repeated and malformed values with 400-class bad_query", () => {
    for (const query of ["offset=", "offset=-1&offset=now", "offset=abc", "offset=1,2", "offset=0_0 ", "offset=..%2F", "offset=-2", "offset=NOW"]) {
      expect(unwrapErr(param(query)).code, query).toBe("bad_query");
    }
  });

  it("starts reads at seq num 0 for -1 and leaves `now` to the stream", () => {
    expect(startSeqNum({ kind: "start" })).toBe(0);
    expect(startSeqNum({ kind: "seq_num", seqNum: 3 })).toBe(3);
    expect(startSeqNum({ kind: "tail" })).toBeUndefined();
  });
});
