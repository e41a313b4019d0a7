// Oversized and broken bodies on every route that takes one (S2-API §2.3, §8.4; README limits): a body with no
// declared length that never ends, one that declares 100 MiB, compression bombs (a few KiB of gzip or zstd
// that decode to many MiB), a single huge S2S frame, a huge WebSocket message, and bodies that break off
// mid-way. Each must be refused with a 4xx after reading little more than the 2 MiB limit — never buffered
// whole, never a 5xx or a hang. (Bodies cut off by a lost connection need real sockets: workerd hands an
// in-process body that errors to the Worker as a clean end, so faults-disconnect.test.ts covers those.)
import { exports } from "cloudflare:workers";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeReadBatch } from "../../src/protocol/s2/proto";
import { rootAuthorization } from "../support/auth";
import { call, createBasin, createStream, expectStatus } from "./helpers";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const BASIN = "fuzz-limits-01";
const LIMIT = 2 * 1024 * 1024;
/** What a server that stops at the limit may still have pulled: the limit, one chunk, and transport buffers. */
const PULLED_MAX = LIMIT + 1024 * 1024;
const CHUNK = 64 * 1024;

beforeAll(async () => {
  await createBasin(BASIN, { create_stream_on_append: true });
  await createStream(BASIN, "canary");
  await expectStatus(await call("/streams/canary/records", { method: "POST", basin: BASIN, json: { records: [{ body: "c" }] } }), 200);
  canaryBefore = await canary();
});

/** A body that yields `filler` for as long as it is read (up to `maxBytes`), counting what was pulled. */
function endless(first: Uint8Array, filler: number, maxBytes = 64 * 1024 * 1024): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= maxBytes) return controller.close();
      const chunk = pulled === 0 ? new Uint8Array([...first, ...new Uint8Array(CHUNK - first.length).fill(filler)]) : new Uint8Array(CHUNK).fill(filler);
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}

interface Route {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Prefix of the body, so that the route would start parsing it. */
  first: string | Uint8Array;
  filler: number;
}

const enc = new TextEncoder();
const s2 = (headers: Record<string, string>) => ({ ...rootAuthorization, "s2-basin": BASIN, ...headers });
const json = { "content-type": "application/json" };
const ROUTES: Route[] = [
  { name: "S2 append, JSON", method: "POST", path: "/v1/streams/canary/records", headers: s2(json), first: '{"records":[{"body":"', filler: 0x61 },
  { name: "S2 append, protobuf", method: "POST", path: "/v1/streams/canary/records", headers: s2({ "content-type": "application/protobuf" }), first: "", filler: 0x0a },
  { name: "create basin", method: "POST", path: "/v1/basins", headers: { ...rootAuthorization, ...json }, first: '{"basin":"', filler: 0x61 },
  { name: "reconfigure basin", method: "PATCH", path: `/v1/basins/${BASIN}`, headers: { ...rootAuthorization, ...json }, first: '{"x":"', filler: 0x61 },
  { name: "create stream", method: "POST", path: "/v1/streams", headers: s2(json), first: '{"stream":"', filler: 0x61 },
  { name: "ensure stream", method: "PUT", path: "/v1/streams/other", headers: s2(json), first: '{"x":"', filler: 0x61 },
  { name: "reconfigure stream", method: "PATCH", path: "/v1/streams/canary", headers: s2(json), first: '{"x":"', filler: 0x61 },
  { name: "issue access token", method: "POST", path: "/v1/access-tokens", headers: { ...rootAuthorization, ...json }, first: '{"id":"', filler: 0x61 },
  { name: "S2S session, one huge frame", method: "POST", path: "/v1/streams/canary/records", headers: s2({ "content-type": "s2s/proto" }), first: new Uint8Array([0x1f, 0xff, 0xff, 0x00]), filler: 0x0a },
  { name: "Durable Streams create", method: "PUT", path: "/v1/stream/limits-ds", headers: { ...rootAuthorization, "content-type": "application/octet-stream" }, first: "", filler: 0x61 },
  { name: "Durable Streams append", method: "POST", path: "/v1/stream/limits-ds", headers: { ...rootAuthorization, "content-type": "application/octet-stream" }, first: "", filler: 0x61 },
];

async function send(path: string, init: RequestInit): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      worker.fetch(`http://localhost${path}`, init),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer within 20 s")), 20_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The canary's records: the endless appends aimed at it must leave it as it was. */
async function canary(): Promise<string> {
  const res = await call("/streams/canary/records?seq_num=0", { basin: BASIN, headers: { accept: "application/protobuf" } });
  const batch = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
  if (!batch.ok) throw new Error(batch.error);
  return JSON.stringify(batch.value.records.map((r) => [r.seqNum, [...r.body]]));
}

let canaryBefore: string;

describe("fuzz: oversized input is refused before it is buffered whole", () => {
  it.each(ROUTES)("$name: an endless body is refused after about 2 MiB", { timeout: 60_000 }, async (route) => {
    if (route.name === "Durable Streams append") {
      await expectStatus(await worker.fetch("http://localhost/v1/stream/limits-ds", { method: "PUT", headers: { ...rootAuthorization, "content-type": "application/octet-stream" } }), 201);
    }
    const { body, pulled } = endless(typeof route.first === "string" ? enc.encode(route.first) : route.first, route.filler);
    const res = await send(route.path, { method: route.method, headers: route.headers, body });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    // An S2S session refuses inside its body: a 200 whose only frame is a terminal one (flag 0x80) with a 4xx.
    const s2s = res.headers.get("content-type") === "s2s/proto";
    if (s2s) expect(bytes[3], `${route.name}: not a terminal frame`).toBe(0x80);
    const status = s2s ? (bytes[4]! << 8) | bytes[5]! : res.status;
    expect(status, `${route.name}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
    expect(status, `${route.name}: ${text.slice(0, 200)}`).toBeLessThan(500);
    expect(pulled(), `${route.name} read ${pulled()} bytes before refusing`).toBeLessThanOrEqual(PULLED_MAX);
    // Refused for its size, having read up to the limit (not for something else, before reading anything).
    expect(pulled(), `${route.name}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(LIMIT - CHUNK);
    if (!s2s) expect(text, route.name).toMatch(/exceeds|too large/i);
  });

  it.each(ROUTES.filter((r) => !r.headers["content-type"]?.startsWith("s2s")))("$name: a declared 100 MiB body is refused at once", { timeout: 60_000 }, async (route) => {
    const stream = new FixedLengthStream(100 * 1024 * 1024);
    const writer = stream.writable.getWriter();
    const written = writer.write(new Uint8Array(CHUNK).fill(route.filler)).catch(() => undefined);
    const res = await send(route.path, { method: route.method, headers: route.headers, body: stream.readable });
    const text = await res.text();
    expect(text, route.name).toMatch(/exceeds|too large/i);
    expect(res.status, route.name).toBeGreaterThanOrEqual(400);
    expect(res.status, route.name).toBeLessThan(500);
    await writer.abort().catch(() => undefined);
    await written;
  });

  it("compression bombs: a few KiB of gzip or zstd that decode to 16 MiB are refused", { timeout: 60_000 }, async () => {
    const inflated = new Uint8Array(16 * 1024 * 1024).fill(0x61);
    for (const [coding, bytes] of [["gzip", gzipSync(inflated)], ["zstd", zstdCompressSync(inflated)]] as const) {
      expect(bytes.length).toBeLessThan(64 * 1024);
      for (const route of ROUTES.filter((r) => r.path.startsWith("/v1/streams") || r.path.startsWith("/v1/basins"))) {
        if (route.headers["content-type"] === "s2s/proto") continue;
        const res = await send(route.path, { method: route.method, headers: { ...route.headers, "content-encoding": coding }, body: bytes });
        const text = await res.text();
        expect(res.status, `${route.name} ${coding}: ${text.slice(0, 200)}`).toBe(400);
        expect(text, `${route.name} ${coding}: ${text}`).toMatch(/exceeds|too large|more than/i);
      }
    }
  });

  it("a WebSocket append message over the limit ends the session with a 4xx close", { timeout: 30_000 }, async () => {
    const res = await worker.fetch(`http://localhost/v1/streams/canary/records/append?basin=${BASIN}`, { headers: { ...rootAuthorization, upgrade: "websocket" } });
    const ws = res.webSocket!;
    ws.accept();
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    ws.send(`{"records":[{"body":"${"a".repeat(LIMIT + 10)}"}]}`);
    const code = await closed;
    expect(code === 4400 || code === 1009, `close code ${code}`).toBe(true);
  });

  it("the canary, aimed at by every oversized append above, is unchanged", async () => {
    expect(await canary()).toBe(canaryBefore);
  });
});
