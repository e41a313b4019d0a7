import { describe, expect, it } from "vitest";
import { parseAppendHeaders, parseCreateHeaders, streamNameFromPath } from "../../src/protocol/ds/requests";
import { isTrue } from "../../src/protocol/ds/headers";
import { unwrap, unwrapErr } from "./support";

const create = (headers: Record<string, string>) => parseCreateHeaders(new Headers(headers));
const append = (headers: Record<string, string>) => parseAppendHeaders(new Headers(headers));

describe("PUT headers (PROTOCOL.md §5.1)", () => {
  it("keeps the content type as sent, null when absent", () => {
    expect(unwrap(create({ "content-type": "application/json; charset=utf-8" })).contentType).toBe("application/json; charset=utf-8");
    expect(unwrap(create({})).contentType).toBeNull();
  });

  it("takes canonical TTLs only, and never with Expires-At", () => {
    expect(unwrap(create({ "stream-ttl": "3600" })).ttlSecs).toBe(3600);
    expect(unwrap(create({ "stream-ttl": "0" })).ttlSecs).toBe(0);
    for (const bad of ["abc", "-1", "+3600", "03600", "3600.0", "3.6e3", ""]) expect(unwrapErr(create({ "stream-ttl": bad })).code, bad).toBe("bad_header");
    expect(unwrapErr(create({ "stream-ttl": "1", "stream-expires-at": "2030-01-01T00:00:00Z" })).code).toBe("bad_header");
  });

  it("takes RFC 3339 expiries with Z or an offset, and keeps their text", () => {
    expect(unwrap(create({ "stream-expires-at": "2030-01-01T00:00:00Z" })).expiresAt).toEqual({ ms: Date.UTC(2030, 0, 1), text: "2030-01-01T00:00:00Z" });
    expect(unwrap(create({ "stream-expires-at": "2030-01-01T02:00:00.5+02:00" })).expiresAt?.ms).toBe(Date.UTC(2030, 0, 1, 0, 0, 0, 500));
    for (const bad of ["tomorrow", "2030-01-01", "2030-13-01T00:00:00Z", "1893456000"]) expect(create({ "stream-expires-at": bad }).ok, bad).toBe(false);
  });

  it("counts Stream-Closed only when it says true, in any case", () => {
    expect(unwrap(create({ "stream-closed": "TRUE" })).closed).toBe(true);
    for (const other of ["1", "yes", "false", ""]) expect(unwrap(create({ "stream-closed": other })).closed).toBe(false);
    expect(isTrue(" True ")).toBe(true);
  });

  it("reads fork headers: source path, offset, and a canonical sub-offset", () => {
    expect(unwrap(create({ "stream-forked-from": "/v1/stream/a%2Fb" })).fork).toEqual({ source: "a/b", seqNum: null, within: 0 });
    expect(unwrap(create({
      "stream-forked-from": "/v1/stream/src", "stream-fork-offset": "0000000000000003_0000000000000000", "stream-fork-sub-offset": "2",
    })).fork).toEqual({ source: "src", seqNum: 3, within: 2 });
    for (const bad of ["-1", "abc", "1.5", "05", "+1"]) {
      expect(create({ "stream-forked-from": "/v1/stream/src", "stream-fork-sub-offset": bad }).ok, bad).toBe(false);
    }
    expect(create({ "stream-forked-from": "/v1/stream/src", "stream-fork-offset": "now" }).ok).toBe(false);
  });

  it("refuses fork details without a source, even a sub-offset of 0", () => {
    expect(unwrapErr(create({ "stream-fork-sub-offset": "0" })).code).toBe("bad_header");
    expect(unwrapErr(create({ "stream-fork-offset": "0000000000000000_0000000000000000" })).code).toBe("bad_header");
  });

  it("finds stream names under the stream root, from paths or URLs", () => {
    expect(streamNameFromPath("/v1/stream/x")).toBe("x");
    expect(streamNameFromPath("http://h:1/v1/stream/x%20y")).toBe("x y");
    expect(streamNameFromPath("/v1/streams/x")).toBeUndefined();
    expect(streamNameFromPath("x")).toBeUndefined();
  });
});

describe("POST headers (PROTOCOL.md §5.2, §5.2.1)", () => {
  const producer = { "producer-id": "p", "producer-epoch": "1", "producer-seq": "2" };

  it("takes all three producer headers or none", () => {
    expect(unwrap(append({})).producer).toBeNull();
    expect(unwrap(append(producer)).producer).toEqual({ id: "p", epoch: 1, seq: 2 });
    for (const missing of Object.keys(producer)) {
      const partial = { ...producer } as Record<string, string>;
      delete partial[missing];
      expect(unwrapErr(append(partial)).code, missing).toBe("bad_header");
    }
  });

  it("refuses an empty id and numbers that are not plain digits below 2^53", () => {
    expect(append({ ...producer, "producer-id": "" }).ok).toBe(false);
    for (const bad of ["1abc", "0xyz", "1e3", "-1", "", "9007199254740992"]) {
      expect(append({ ...producer, "producer-epoch": bad }).ok, bad).toBe(false);
      expect(append({ ...producer, "producer-seq": bad }).ok, bad).toBe(false);
    }
    expect(unwrap(append({ ...producer, "producer-seq": "007" })).producer?.seq).toBe(7);
  });

  it("reads the close flag, Stream-Seq and content type", () => {
    expect(unwrap(append({ "stream-closed": "true", "stream-seq": "09", "content-type": "text/plain" }))).toEqual({
      contentType: "text/plain", close: true, producer: null, streamSeq: "09",
    });
  });
});
