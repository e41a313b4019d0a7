import { describe, expect, it } from "vitest";
import { checkBasinPrefix, checkStreamPrefix } from "../../src/domain/names";
import { parseListQuery, parseReadQuery } from "../../src/protocol/s2/query";
import { unwrap, unwrapErr } from "./support";

const read = (query: string) => parseReadQuery(new URLSearchParams(query));
const list = (query: string, check = checkStreamPrefix) => parseListQuery(new URLSearchParams(query), check);

describe("parseReadQuery: start (S2-API §10.1)", () => {
  it("defaults to tail_offset 0 with no limits, no clamp and no wait", () => {
    const request = unwrap(read(""));
    expect(request.start).toEqual({ kind: "tail_offset", tailOffset: 0 });
    expect(request.limits).toEqual({});
    expect(request.clamp).toBe(false);
    expect(request.waitSecs ?? 0).toBe(0);
  });

  it("reads each kind of start", () => {
    expect(unwrap(read("seq_num=0")).start).toEqual({ kind: "seq_num", seqNum: 0 });
    expect(unwrap(read("seq_num=42")).start).toEqual({ kind: "seq_num", seqNum: 42 });
    expect(unwrap(read("timestamp=1700000000000")).start).toEqual({ kind: "timestamp", timestamp: 1700000000000 });
    expect(unwrap(read("tail_offset=3")).start).toEqual({ kind: "tail_offset", tailOffset: 3 });
  });

  it("rejects more than one start with invalid", () => {
    for (const query of ["seq_num=1&timestamp=2", "seq_num=0&tail_offset=0", "timestamp=1&tail_offset=1", "seq_num=1&timestamp=1&tail_offset=1"]) {
      expect(unwrapErr(read(query)), query).toEqual({
        code: "invalid",
        message: "only one of seq_num, timestamp, or tail_offset can be provided",
      });
    }
  });

  it("clamps u64 values beyond 2^53 to the safe maximum", () => {
    expect(unwrap(read("seq_num=18446744073709551615")).start).toEqual({ kind: "seq_num", seqNum: Number.MAX_SAFE_INTEGER });
    expect(unwrap(read("count=99999999999999999999")).limits.count).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("parseReadQuery: limits, clamp and wait", () => {
  it("reads count, bytes, until and wait, including zeros", () => {
    const request = unwrap(read("seq_num=1&count=0&bytes=0&until=0&wait=0"));
    expect(request.limits).toEqual({ count: 0, bytes: 0, until: 0 });
    expect(request.waitSecs).toBe(0);
    const other = unwrap(read("count=10&bytes=2048&until=99&wait=30"));
    expect(other.limits).toEqual({ count: 10, bytes: 2048, until: 99 });
    expect(other.waitSecs).toBe(30);
  });

  it("does not clamp unary limits here (the domain does)", () => {
    const request = unwrap(read("count=5000&bytes=99999999&wait=3600"));
    expect(request.limits).toEqual({ count: 5000, bytes: 99999999 });
    expect(request.waitSecs).toBe(3600);
  });

  it("reads clamp=true and clamp=false", () => {
    expect(unwrap(read("clamp=true")).clamp).toBe(true);
    expect(unwrap(read("clamp=false")).clamp).toBe(false);
  });

  it("rejects a non-boolean clamp with bad_query", () => {
    for (const value of ["1", "yes", "TRUE", ""]) expect(unwrapErr(read(`clamp=${value}`)).code, value).toBe("bad_query");
  });
});

describe("parseReadQuery: unparsable numbers are bad_query", () => {
  const names = ["seq_num", "timestamp", "tail_offset", "count", "bytes", "until", "wait"];
  const values = ["abc", "-1", "1.5", "", "+1", "1e3", " 1", "0x10", "%E2%82%AC"];
  for (const name of names) {
    it(name, () => {
      for (const value of values) expect(unwrapErr(read(`${name}=${value}`)).code, `${name}=${value}`).toBe("bad_query");
    });
  }

  it("reports bad_query before the two-start check", () => {
    expect(unwrapErr(read("seq_num=1&timestamp=x")).code).toBe("bad_query");
  });
});

describe("parseListQuery (S2-API §5)", () => {
  it("defaults to empty prefix and start_after and limit 1000", () => {
    expect(unwrap(list(""))).toEqual({ prefix: "", startAfter: "", limit: 1000 });
  });

  it("reads prefix, start_after and limit", () => {
    expect(unwrap(list("prefix=a%2Fb&start_after=a%2Fc&limit=5"))).toEqual({ prefix: "a/b", startAfter: "a/c", limit: 5 });
    expect(unwrap(list("limit=1")).limit).toBe(1);
    expect(unwrap(list("limit=1000")).limit).toBe(1000);
  });

  it("treats limit 0 and limits above 1000 as 1000", () => {
    expect(unwrap(list("limit=0")).limit).toBe(1000);
    expect(unwrap(list("limit=1001")).limit).toBe(1000);
    expect(unwrap(list("limit=18446744073709551615")).limit).toBe(1000);
  });

  it("rejects negative or non-numeric limits with bad_query", () => {
    for (const value of ["-1", "abc", "", "1.0"]) expect(unwrapErr(list(`limit=${value}`)).code, value).toBe("bad_query");
  });

  it("validates prefix and start_after with the given rule", () => {
    expect(unwrapErr(list("prefix=Abc", checkBasinPrefix)).code).toBe("bad_query");
    expect(unwrapErr(list("start_after=-x", checkBasinPrefix)).code).toBe("bad_query");
    expect(unwrap(list("prefix=abc-&start_after=abc-d", checkBasinPrefix))).toEqual({ prefix: "abc-", startAfter: "abc-d", limit: 1000 });
    expect(unwrapErr(list(`prefix=${"x".repeat(513)}`)).code).toBe("bad_query");
    expect(unwrapErr(list("start_after=a%00")).code).toBe("bad_query");
    expect(unwrap(list("prefix=.&start_after=..")).prefix).toBe(".");
  });
});
