// Shared plumbing of the tiered-storage tests (tiered-*.test.ts): a model of what a stream holds, the S2 read
// kinds as a client sees them (unary JSON and protobuf, SSE, S2S), the stream object's segment index and tail
// rows, its R2 objects decoded with the segment codec, and a seam that makes the R2 binding fail or wait.
//
// The workers project seals after 4 tail rows / 4096 bytes, 2048-byte segments (vitest.config.ts), so every
// stream here spreads over many segments after a few appends.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, expect } from "vitest";
import { meteredBytes } from "../../src/domain/metering";
import { decodeReadBatch } from "../../src/protocol/s2/proto";
import { FrameDecoder, openMessage } from "../../src/protocol/s2/s2s";
import { decodeSegmentBlock, readSegmentIndex } from "../../src/storage/segment-codec";
import { segmentPrefix } from "../../src/storage/segment-store";
import { fromBase64, sseEvents, toBase64 } from "../history/wire";
import { call, createBasin, createStream, env, expectStatus, recordsPath, streamObject, uniqueBasin, uniqueStream } from "./helpers";

export type Bytes = Uint8Array;
export interface Rec { seqNum: number; timestamp: number; headers: [Bytes, Bytes][]; body: Bytes }
export interface NewRec { timestamp?: number; headers?: [Bytes, Bytes][]; body: Bytes }

const text = new TextEncoder();
export const utf8 = (s: string): Bytes => text.encode(s);

/** A deterministic generator (mulberry32), so a failing case can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(random: () => number, length: number): Bytes {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Appends (S2 JSON, base64, so bodies and headers can be any bytes)

export interface AppendAck { start: { seq_num: number; timestamp: number }; end: { seq_num: number; timestamp: number } }

export function appendRaw(basin: string, stream: string, records: NewRec[]): Promise<Response> {
  const json = {
    records: records.map((r) => ({
      ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
      ...(r.headers?.length ? { headers: r.headers.map(([n, v]) => [toBase64(n), toBase64(v)]) } : {}),
      body: toBase64(r.body),
    })),
  };
  return call(recordsPath(stream), { method: "POST", basin, json, headers: { "s2-format": "base64" } });
}

/** Appends and adds what was acknowledged to the model (timestamps as the server assigned them). */
export async function appendTo(model: Rec[], basin: string, stream: string, records: NewRec[]): Promise<AppendAck> {
  const ack = (await expectStatus(await appendRaw(basin, stream, records), 200)) as AppendAck;
  expect(ack.start.seq_num).toBe(model.length);
  expect(ack.end.seq_num).toBe(model.length + records.length);
  records.forEach((r) => model.push({ seqNum: model.length, timestamp: r.timestamp ?? ack.end.timestamp, headers: r.headers ?? [], body: r.body }));
  return ack;
}

// ---------------------------------------------------------------------------------------------------------
// Test streams: one basin per file, streams filled with random records and sealed

/** A basin of this test file's own, created before its tests run. */
export function fileBasin(prefix: string): string {
  const basin = uniqueBasin(prefix);
  beforeAll(() => createBasin(basin));
  return basin;
}

/** Timestamps of filled records: this plus 10 ms per seq num, distinct and increasing. */
export const BASE_TS = 1_700_000_000_000;

/** Filled batches: 1 to `recordsMax` records each, bodies of `bodyBytes[0]` up to (not including) `bodyBytes[1]`. */
export interface FillShape {
  recordsMax: number;
  bodyBytes: [number, number];
  /** The same shapes as without, other bytes. */
  invert?: boolean;
}

/** Appends `batches` random batches (replayable by `seed`) and adds them to the model. */
export async function fill(model: Rec[], basin: string, stream: string, batches: number, seed: number, shape: FillShape): Promise<void> {
  const random = rng(seed);
  const [bodyMin, bodyEnd] = shape.bodyBytes;
  for (let i = 0; i < batches; i++) {
    const records: NewRec[] = Array.from({ length: 1 + Math.floor(random() * shape.recordsMax) }, (_, j) => ({
      timestamp: BASE_TS + (model.length + j) * 10,
      body: randomBytes(random, bodyMin + Math.floor(random() * (bodyEnd - bodyMin))).map((x) => (shape.invert ? x ^ 0xff : x)),
    }));
    await appendTo(model, basin, stream, records);
  }
}

/** A new stream (created with `config`), filled and sealed down to the thresholds: its name and its model. */
export async function filledStream(
  basin: string, prefix: string, batches: number, seed: number, shape: FillShape, config?: unknown,
): Promise<{ stream: string; model: Rec[] }> {
  const stream = uniqueStream(prefix);
  await createStream(basin, stream, config);
  const model: Rec[] = [];
  await fill(model, basin, stream, batches, seed, shape);
  await settle(basin, stream);
  return { stream, model };
}

// ---------------------------------------------------------------------------------------------------------
// What a read should return, from the model (S2-API §10)

export interface Limits { count?: number; bytes?: number; until?: number }
export type Start = { seqNum: number } | { timestamp: number } | { tailOffset: number };

export function expectedRead(model: readonly Rec[], start: Start, limits: Limits, firstLive = 0): Rec[] {
  const tail = model.length;
  let from: number;
  if ("seqNum" in start) from = start.seqNum;
  else if ("tailOffset" in start) from = Math.max(0, tail - start.tailOffset);
  else from = model.find((r) => r.seqNum >= firstLive && r.timestamp >= start.timestamp)?.seqNum ?? tail;
  const out: Rec[] = [];
  let bytes = 0;
  for (const record of model.slice(Math.max(from, firstLive))) {
    const size = meteredBytes(record);
    if (limits.count !== undefined && out.length + 1 > limits.count) break;
    if (limits.bytes !== undefined && bytes + size > limits.bytes) break;
    if (limits.until !== undefined && record.timestamp >= limits.until) break;
    out.push(record);
    bytes += size;
  }
  return out;
}

/** The unary caps (S2-API §10.3). */
export const unaryCaps = (limits: Limits): Limits => ({
  ...limits, count: Math.min(limits.count ?? 1000, 1000), bytes: Math.min(limits.bytes ?? 1024 * 1024, 1024 * 1024),
});

export function query(start: Start, limits: Limits = {}): string {
  const q = new URLSearchParams();
  if ("seqNum" in start) q.set("seq_num", String(start.seqNum));
  else if ("timestamp" in start) q.set("timestamp", String(start.timestamp));
  else q.set("tail_offset", String(start.tailOffset));
  for (const key of ["count", "bytes", "until"] as const) if (limits[key] !== undefined) q.set(key, String(limits[key]));
  return q.toString();
}

/** Records compared as plain values, so a mismatch prints readably (hex). */
export const view = (records: readonly Rec[]) => records.map((r) => ({
  seq: r.seqNum, ts: r.timestamp, headers: r.headers.map(([n, v]) => `${hex(n)}=${hex(v)}`), body: hex(r.body),
}));
const hex = (b: Bytes) => (b.length > 64 ? `${b.length}B:${Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join("")}…#${checksum(b)}` : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
const checksum = (b: Bytes) => b.reduce((h, x) => (Math.imul(h, 31) + x) >>> 0, 7);

// ---------------------------------------------------------------------------------------------------------
// The read kinds, as a client sees them

interface JsonRecord { seq_num: number; timestamp: number; headers?: [string, string][]; body?: string }

const fromJson = (r: JsonRecord): Rec => ({
  seqNum: r.seq_num, timestamp: r.timestamp, headers: (r.headers ?? []).map(([n, v]) => [fromBase64(n), fromBase64(v)]), body: fromBase64(r.body ?? ""),
});

export async function readUnaryJson(basin: string, stream: string, q: string): Promise<{ status: number; records: Rec[]; body: unknown }> {
  const res = await call(`${recordsPath(stream)}?${q}`, { basin, headers: { "s2-format": "base64" } });
  const body = await res.json() as { records?: JsonRecord[] };
  return { status: res.status, records: (body.records ?? []).map(fromJson), body };
}

export async function readUnaryProto(basin: string, stream: string, q: string): Promise<Rec[]> {
  const res = await call(`${recordsPath(stream)}?${q}`, { basin, headers: { accept: "application/protobuf" } });
  expect(res.status).toBe(200);
  const decoded = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.value.records.map((r) => ({ seqNum: r.seqNum, timestamp: r.timestamp, headers: r.headers.map(([n, v]) => [n, v]), body: r.body }));
}

/**
 * An SSE session (S2-API §10.4) until `[DONE]`, or until `want` records arrived (then the body is cancelled,
 * for sessions that follow). Also returns the event ids, to check resumption positions.
 */
export async function readSse(basin: string, stream: string, q: string, want?: number, headers: Record<string, string> = {}):
  Promise<{ records: Rec[]; ids: string[]; done: boolean; errors: string[] }> {
  const res = await call(`${recordsPath(stream)}?${q}`, { basin, headers: { accept: "text/event-stream", "s2-format": "base64", ...headers } });
  expect(res.status).toBe(200);
  const records: Rec[] = [];
  const ids: string[] = [];
  const errors: string[] = [];
  let done = false;
  for await (const event of sseEvents(res.body!)) {
    if (event.data === "[DONE]") {
      done = true;
      break;
    }
    if (event.event === "error") errors.push(event.data);
    if (event.event !== "batch") continue;
    const batch = JSON.parse(event.data) as { records: JsonRecord[] };
    records.push(...batch.records.map(fromJson));
    if (event.id) ids.push(event.id);
    if (want !== undefined && records.length >= want) break;
  }
  return { records, ids, done, errors };
}

/** An S2S read session (S2-API §12.4) until its body ends or `want` records arrived. */
export async function readS2s(basin: string, stream: string, q: string, want?: number): Promise<{ records: Rec[]; terminal?: string }> {
  const res = await call(`${recordsPath(stream)}?${q}`, { basin, headers: { "content-type": "s2s/proto" } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new FrameDecoder();
  const records: Rec[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      decoder.push(value);
      for (let next = decoder.next(); ; next = decoder.next()) {
        if (!next.ok) throw new Error(next.error);
        const frame = next.value;
        if (!frame) break;
        if (frame.terminal) return { records, terminal: `${frame.status} ${frame.body}` };
        const message = openMessage(frame);
        if (!message.ok) throw new Error(message.error);
        const batch = decodeReadBatch(message.value);
        if (!batch.ok) throw new Error(batch.error);
        records.push(...batch.value.records.map((r) => ({ seqNum: r.seqNum, timestamp: r.timestamp, headers: r.headers.map(([n, v]) => [n, v] as [Bytes, Bytes]), body: r.body })));
      }
      if (want !== undefined && records.length >= want) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { records };
}

// ---------------------------------------------------------------------------------------------------------
// Inside the stream's object

export interface IndexedSegment { start: number; end: number; key: string; size: number; expiresAtMs: number | null; blocks: number }

export function segmentsOf(basin: string, stream: string): Promise<IndexedSegment[]> {
  return runInDurableObject(streamObject(basin, stream), (_instance, state) => state.storage.sql.exec<{
    start_seq_num: number; end_seq_num: number; object_key: string; size_bytes: number; expires_at_ms: number | null; blocks: string;
  }>("SELECT * FROM segments ORDER BY start_seq_num").toArray().map((r) => ({
    start: r.start_seq_num, end: r.end_seq_num, key: r.object_key, size: r.size_bytes, expiresAtMs: r.expires_at_ms,
    blocks: (JSON.parse(r.blocks) as unknown[]).length,
  })));
}

export interface TailRow { start: number; end: number; bytes: number }

export function tailRowsOf(basin: string, stream: string): Promise<TailRow[]> {
  return runInDurableObject(streamObject(basin, stream), (_instance, state) => state.storage.sql.exec<{ start_seq_num: number; end_seq_num: number; n: number }>(
    "SELECT start_seq_num, end_seq_num, length(records) AS n FROM record_batches ORDER BY start_seq_num",
  ).toArray().map((r) => ({ start: r.start_seq_num, end: r.end_seq_num, bytes: r.n })));
}

/** Runs the object's alarm until its tail is within the test thresholds (4 rows, 4096 bytes): sealing done. */
export async function settle(basin: string, stream: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await runDurableObjectAlarm(streamObject(basin, stream));
    const rows = await tailRowsOf(basin, stream);
    if (rows.length <= 4 && rows.reduce((n, r) => n + r.bytes, 0) <= 4096) return;
  }
  throw new Error("the tail never came within the seal thresholds");
}

/** The R2 key prefix of the stream's segments. */
export const prefixOf = (basin: string, stream: string) => segmentPrefix(env.STREAMS.idFromName(`${basin}/${stream}`).toString());

export async function r2Keys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.SEGMENTS.list({ prefix, ...(cursor ? { cursor } : {}) });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

/**
 * Every segment object under the prefix, fetched whole, checked (magic, version, footer CRC via
 * readSegmentIndex) and decoded block by block (each block's CRC): its records in seq num order.
 */
export async function decodeR2Segments(prefix: string): Promise<{ key: string; records: Rec[] }[]> {
  const out: { key: string; records: Rec[] }[] = [];
  for (const key of await r2Keys(prefix)) {
    const object = await env.SEGMENTS.get(key);
    const bytes = new Uint8Array(await object!.arrayBuffer());
    const blocks = readSegmentIndex(bytes);
    const records = blocks.flatMap((b) => decodeSegmentBlock(bytes.subarray(b.offset, b.offset + b.size), b.startSeqNum))
      .map((r) => ({ seqNum: r.seqNum, timestamp: r.timestamp, headers: r.headers.map(([n, v]) => [n, v] as [Bytes, Bytes]), body: r.body }));
    out.push({ key, records });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The R2 seam. The tests run in the same isolate as the Worker and its Durable Objects, and `env.SEGMENTS`
// is the very binding object every StreamObject holds (checked in tiered-faults.test.ts), so replacing a
// method on it changes what the objects' R2SegmentStore sees. Always restore (try/finally).

type BucketMethod = "put" | "get" | "delete" | "list";

export function hookBucket(method: BucketMethod, replacement: (original: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]) => Promise<unknown>): () => void {
  const bucket = env.SEGMENTS as unknown as Record<string, unknown>;
  const own = Object.prototype.hasOwnProperty.call(bucket, method);
  const previous = bucket[method] as (...args: unknown[]) => Promise<unknown>;
  const original = previous.bind(env.SEGMENTS);
  bucket[method] = (...args: unknown[]) => replacement(original, ...args);
  return () => {
    if (own) bucket[method] = previous;
    else delete bucket[method];
  };
}

/** A promise with its resolver, to hold a hooked call until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
