// Hostile input on the Durable Streams routes (`/v1/stream/{path}`, DESIGN.md §4): every method, nested and
// tricky paths, the protocol's headers with wrong values (content types, Stream-TTL / Expires-At, Stream-Seq,
// producer triples, fork headers, Stream-Closed, If-None-Match), hostile offsets, cursors and live modes, and
// bodies of any bytes. Every answer must be a well-formed protocol answer (fuzz-support.ts: plain-text errors
// with the protocol's headers, never a 5xx, a hang or a crash). A canary stream with a producer and a
// Stream-Seq, targeted with appends that are invalid by construction, must not change at all.
import fc from "fast-check";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { headerValueArb, hostileJsonArb, jsonBytesArb, numberTextArb, queryArb, segmentArb } from "./fuzz-arbitraries";
import { Fuzzer, validAuth, type FuzzRequest } from "./fuzz-support";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const CANARY = "ds-canary";
const fuzzer = new Fuzzer();
const seed = Number(process.env.EDGESTREAM_FUZZ_SEED ?? Date.now() % 2 ** 31);
const params = (numRuns: number) => ({ numRuns, seed, endOnFailure: true });
const enc = new TextEncoder();
const url = (name: string) => `http://localhost/v1/stream/${name}`;

async function ds(name: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response> {
  return worker.fetch(url(name), { ...init, headers: { ...validAuth, ...init.headers } });
}

/** Everything about the canary a write could change: its bytes, tail, type and state. */
async function canarySnapshot(): Promise<string> {
  const read = await ds(CANARY, { method: "GET" });
  const bytes = [...new Uint8Array(await read.arrayBuffer())];
  const head = await ds(CANARY, { method: "HEAD" });
  const h = (name: string) => head.headers.get(name);
  return JSON.stringify({ status: read.status, bytes, next: h("stream-next-offset"), type: h("content-type"), closed: h("stream-closed") });
}

let before: string;

beforeAll(async () => {
  expect((await ds(CANARY, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: "hello" })).status).toBe(201);
  const producer = { "content-type": "application/octet-stream", "producer-id": "p", "producer-epoch": "5", "producer-seq": "0" };
  expect((await ds(CANARY, { method: "POST", headers: producer, body: " world" })).status).toBe(200);
  expect((await ds(CANARY, { method: "POST", headers: { "content-type": "application/octet-stream", "stream-seq": "m" }, body: "!" })).status).toBe(204);
  before = await canarySnapshot();
});

const nameArb = fc.oneof(
  segmentArb,
  fc.array(segmentArb, { minLength: 2, maxLength: 4 }).map((parts) => parts.join("/")),
  fc.constantFrom("__ds/subscriptions", "__ds/x/y", "", "/", "a//b", "fuzz-fresh"),
);

const dsHeadersArb = fc.record({
  authorization: fc.oneof({ weight: 9, arbitrary: fc.constant(validAuth.authorization) }, { weight: 1, arbitrary: headerValueArb(["Bearer nope", ""]) }),
  "content-type": headerValueArb(["application/octet-stream", "application/json", "text/plain", "text/plain; charset=utf-8", "application/ndjson", "APPLICATION/JSON", ";", ""]),
  "stream-ttl": headerValueArb(["0", "1", "60", "-1", "1.5", "01", "1e3", "18446744073709551616"]),
  "stream-expires-at": headerValueArb(["2030-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "2030-01-01 00:00:00", "tomorrow", "2030-13-45T99:99:99Z"]),
  "stream-closed": headerValueArb(["true", "false", "TRUE", "1", "yes"]),
  "stream-seq": headerValueArb(["a", "b", "m", "z", "", "\t"]),
  "producer-id": headerValueArb(["p", "q", "", " "]),
  "producer-epoch": numberTextArb.map((v) => v.replace(/[^\x20-\x7e]/g, "")),
  "producer-seq": numberTextArb.map((v) => v.replace(/[^\x20-\x7e]/g, "")),
  "stream-forked-from": headerValueArb([`/v1/stream/${CANARY}`, "/v1/stream/missing", "http://localhost/v1/stream/x", "/v1/streams/x", "../x", "%zz"]),
  "stream-fork-offset": headerValueArb(["0000000000000000_0000000000000000", "0000000000000001_0000000000000000", "-1", "now", "1_1", "x"]),
  "stream-fork-sub-offset": headerValueArb(["0", "1", "-1", "99999999999"]),
  "if-none-match": headerValueArb(["*", "\"x\"", "W/\"x\"", ""]),
}, { requiredKeys: ["authorization"] });

/** A DS query; a long-poll only on a stream that does not exist, so it cannot wait the full timeout. */
const dsQueryArb = fc.tuple(queryArb, fc.constantFrom("", "offset=-1", "offset=now", "offset=0000000000000000_0000000000000000", "offset=0000000000000003_0000000000000000", "offset=9999999999999999_0000000000000000", "offset=1_1", "offset=-2", "offset=a&offset=b", "live=sse&offset=-1", "live=sse&offset=now", "live=bogus&offset=-1", "cursor=x&offset=-1"))
  .map(([q, ds]) => [q, ds].filter(Boolean).join("&").replace(/live=long-poll/g, "live=sse"));

const bodyArb = fc.oneof(fc.constant(undefined), fc.uint8Array({ maxLength: 200 }), jsonBytesArb(hostileJsonArb));

const requestArb: fc.Arbitrary<FuzzRequest> = fc.tuple(fc.constantFrom("PUT", "POST", "GET", "HEAD", "DELETE", "OPTIONS", "PATCH"), nameArb, dsQueryArb, dsHeadersArb, bodyArb)
  .map(([method, name, query, headers, body]) => ({
    method, path: `/v1/stream/${name}${query ? `?${query}` : ""}`, headers,
    ...(body !== undefined && method !== "GET" && method !== "HEAD" ? { body } : {}),
  }));

describe("fuzz: Durable Streams routes", () => {
  it("any method, path, headers, query and body: a well-formed answer, never 5xx or a hang", { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(requestArb, async (request) => {
      await fuzzer.check(request);
    }), params(3_000));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it("reads of the canary: catch-up, SSE and long-poll from hostile offsets and cursors", { timeout: 60_000 }, async () => {
    const arb = fc.tuple(fc.constantFrom("", "&live=sse", "&live=long-poll"), fc.constantFrom("-1", "0000000000000000_0000000000000000", "0000000000000001_0000000000000000", "now", "x", ""), fc.string({ maxLength: 20 }))
      .map(([live, offset, cursor]): FuzzRequest => {
        // A long-poll at the tail would wait for the timeout: only from the start, where data is ready at once.
        const o = live === "&live=long-poll" ? "-1" : offset;
        return { method: "GET", path: `/v1/stream/${CANARY}?offset=${encodeURIComponent(o)}${live}&cursor=${encodeURIComponent(cursor)}`, headers: validAuth };
      });
    await fc.assert(fc.asyncProperty(arb, async (request) => {
      await fuzzer.check(request);
    }), params(300));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });
});

const octet = { "content-type": "application/octet-stream" };

/** Each breaks one rule of a write to the canary; the canary's state makes each a refusal (or a no-op). */
const BREAKERS: ((n: number) => FuzzRequest)[] = [
  (n) => post({ "content-type": ["text/plain", "application/json", "image/png"][n % 3]! }, "x"),
  (n) => post({ ...octet, "producer-id": "p", "producer-epoch": String(n % 5), "producer-seq": "0" }, "stale epoch"),
  (n) => post({ ...octet, "producer-id": "p", "producer-epoch": "5", "producer-seq": String(2 + (n % 1000)) }, "seq gap"),
  // A retry of the producer's accepted batch: answered as a duplicate, writes nothing.
  () => post({ ...octet, "producer-id": "p", "producer-epoch": "5", "producer-seq": "0" }, " world"),
  (n) => post({ ...octet, ...[{ "producer-id": "p" }, { "producer-epoch": "5" }, { "producer-id": "p", "producer-seq": "1" }][n % 3]! }, "partial triple"),
  (n) => post({ ...octet, "producer-id": "p", "producer-epoch": ["-1", "1.5", "x", "99999999999999999999"][n % 4]!, "producer-seq": "1" }, "bad epoch"),
  (n) => post({ ...octet, "stream-seq": ["a", "m", "", "L"][n % 4]! }, "regression"),
  () => post(octet, undefined),
  () => post({}, "no content type"),
  (n) => put({ "content-type": ["text/plain", "application/json"][n % 2]! }),
  () => put({ ...octet, "stream-ttl": "60" }),
  () => put({ ...octet, "stream-expires-at": "2030-01-01T00:00:00Z" }),
  (n) => put({ ...octet, "stream-ttl": ["-1", "x", "1.5"][n % 3]! }),
  () => ({ method: "POST", path: `/v1/stream/${CANARY}`, headers: { ...octet, authorization: "Bearer wrong" }, body: "unauthenticated" }),
];

function post(headers: Record<string, string>, body: string | undefined): FuzzRequest {
  return { method: "POST", path: `/v1/stream/${CANARY}`, headers: { ...validAuth, ...headers }, ...(body !== undefined ? { body: enc.encode(body) } : {}) };
}

function put(headers: Record<string, string>): FuzzRequest {
  return { method: "PUT", path: `/v1/stream/${CANARY}`, headers: { ...validAuth, ...headers } };
}

describe("fuzz: invalid writes to the Durable Streams canary", () => {
  it("each is refused (or a duplicate no-op) and the canary is byte-for-byte unchanged", { timeout: 60_000 }, async () => {
    const arb = fc.tuple(fc.nat({ max: BREAKERS.length - 1 }), fc.nat());
    await fc.assert(fc.asyncProperty(arb, async ([i, n]) => {
      const request = BREAKERS[i]!(n);
      const status = await fuzzer.check(request);
      const noop = i === 3 && status === 204;
      if (!noop && (status < 400 || status >= 500)) fuzzer.problems.push(`breaker ${i} (${n}) answered ${status}`);
    }), params(400));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
    expect(await canarySnapshot()).toBe(before);
  });

  it("the file sent at least 3,500 requests, and the canary never changed", async () => {
    fuzzer.expectClean(3_500);
    expect(await canarySnapshot()).toBe(before);
    console.log(`fuzz-ds: ${fuzzer.sent} requests, statuses ${JSON.stringify(Object.fromEntries([...fuzzer.statuses].sort((a, b) => a[0] - b[0])))}, seed ${seed}`);
  });
});
