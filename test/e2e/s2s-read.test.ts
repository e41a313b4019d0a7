// S2S read sessions over plain fetch (spec §12.1, §12.2, §12.4), parsed with our own frame decoder: catch-up
// batches without tail, a heartbeat on reaching the tail, live batches with tail, terminal frames, compression.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ReadBatch } from "../../src/domain/types";
import { fromUtf8Lossy } from "../../src/lib/bytes";
import { decodeReadBatch } from "../../src/protocol/s2/proto";
import { FrameDecoder, openMessage, type Frame, type RegularFrame } from "../../src/protocol/s2/s2s";
import { api, basinName, expectErrorBody, jsonOf, streamName } from "../support/s2";

let basin: string;

beforeAll(async () => {
  basin = basinName("s2s");
  const res = await api("/basins", { method: "POST", json: { basin } });
  expect(res.status).toBe(201);
});

async function newStream(): Promise<string> {
  const stream = streamName("s2s");
  const res = await api("/streams", { method: "POST", basin, json: { stream } });
  expect(res.status).toBe(201);
  return stream;
}

const recordsPath = (stream: string) => `/streams/${encodeURIComponent(stream)}/records`;

async function append(stream: string, bodies: string[]): Promise<void> {
  const res = await api(recordsPath(stream), { method: "POST", basin, json: { records: bodies.map((body) => ({ body })) } });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Sessions opened by a test, cancelled afterwards so no follower outlives it. */
const open: FrameReader[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((reader) => reader.cancel()));
});

async function openSession(stream: string, query: string, headers: Record<string, string> = {}): Promise<Response> {
  return api(`${recordsPath(stream)}?${query}`, { basin, headers: { "content-type": "s2s/proto", ...headers } });
}

/** Pulls frames from a session's body through FrameDecoder, each within a deadline. */
class FrameReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new FrameDecoder();
  #ended = false;

  constructor(res: Response) {
    this.#reader = res.body!.getReader();
    open.push(this);
  }

  /** The next frame, or undefined when the body ended cleanly on a frame boundary. */
  async next(timeoutMs = 10_000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const decoded = this.#decoder.next();
      if (!decoded.ok) throw new Error(`bad frame from server: ${decoded.error}`);
      if (decoded.value) return decoded.value;
      if (this.#ended) {
        const finished = this.#decoder.finish();
        if (!finished.ok) throw new Error(finished.error);
        return undefined;
      }
      const chunk = await Promise.race([
        this.#reader.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no frame within the deadline")), deadline - Date.now())),
      ]);
      if (chunk.done) this.#ended = true;
      else this.#decoder.push(chunk.value);
    }
  }

  /** The next frame as a ReadBatch; fails on a terminal frame or the end of the body. */
  async batch(timeoutMs?: number): Promise<ReadBatch & { frame: RegularFrame }> {
    const frame = await this.next(timeoutMs);
    if (!frame || frame.terminal) throw new Error(`expected a ReadBatch frame, got ${JSON.stringify(frame)}`);
    const message = openMessage(frame);
    if (!message.ok) throw new Error(message.error);
    const batch = decodeReadBatch(message.value);
    if (!batch.ok) throw new Error(batch.error);
    return { ...batch.value, frame };
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

const bodies = (batch: ReadBatch) => batch.records.map((r) => fromUtf8Lossy(r.body));

describe("S2S read sessions", () => {
  it("establishes the session with 200 s2s/proto and streaming headers", async () => {
    const stream = await newStream();
    await append(stream, ["a"]);
    const res = await openSession(stream, "seq_num=0&count=1");
    new FrameReader(res);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("s2s/proto");
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(res.headers.get("content-encoding")).toBeNull();
  });

  it("delivers catch-up without tail, a heartbeat at the tail, then live batches with tail", async () => {
    const stream = await newStream();
    await append(stream, ["r0", "r1", "r2"]);
    const reader = new FrameReader(await openSession(stream, "seq_num=1"));

    const catchUp = await reader.batch();
    expect(catchUp.frame.compression).toBe("none");
    expect(catchUp.records.map((r) => r.seqNum)).toEqual([1, 2]);
    expect(bodies(catchUp)).toEqual(["r1", "r2"]);
    expect(catchUp.tail).toBeUndefined();

    const heartbeat = await reader.batch();
    expect(heartbeat.records).toEqual([]);
    expect(heartbeat.tail?.seqNum).toBe(3);

    await append(stream, ["x", "y"]);
    const live = await reader.batch();
    expect(live.records.map((r) => r.seqNum)).toEqual([3, 4]);
    expect(bodies(live)).toEqual(["x", "y"]);
    expect(live.tail?.seqNum).toBe(5);
    expect(live.tail?.timestamp).toBe(live.records[1]!.timestamp);

    await append(stream, ["z"]);
    const next = await reader.batch();
    expect([bodies(next), next.tail?.seqNum]).toEqual([["z"], 6]);
  });

  it("a bounded session ends with the body, without a terminal frame", async () => {
    const stream = await newStream();
    await append(stream, ["a", "b", "c", "d"]);
    const reader = new FrameReader(await openSession(stream, "seq_num=0&count=2"));
    const batch = await reader.batch();
    expect(bodies(batch)).toEqual(["a", "b"]);
    expect(await reader.next()).toBeUndefined();
  });

  it("a count without wait ends at the tail instead of following", async () => {
    const stream = await newStream();
    await append(stream, ["a"]);
    const reader = new FrameReader(await openSession(stream, "seq_num=0&count=3"));
    expect(bodies(await reader.batch())).toEqual(["a"]);
    expect(await reader.next()).toBeUndefined();
  });

  it("with wait, the count budget spans catch-up and live batches", async () => {
    const stream = await newStream();
    await append(stream, ["a"]);
    const reader = new FrameReader(await openSession(stream, "seq_num=0&count=3&wait=10"));
    expect(bodies(await reader.batch())).toEqual(["a"]);
    expect((await reader.batch()).records).toEqual([]);
    await append(stream, ["b", "c", "d"]);
    const live = await reader.batch();
    expect(bodies(live)).toEqual(["b", "c"]);
    expect(live.tail?.seqNum).toBe(4);
    expect(await reader.next()).toBeUndefined();
  });

  it("ends an idle session after `wait` seconds", async () => {
    const stream = await newStream();
    await append(stream, ["a"]);
    const started = Date.now();
    const reader = new FrameReader(await openSession(stream, "seq_num=1&wait=1"));
    expect((await reader.batch()).tail?.seqNum).toBe(1);
    expect(await reader.next()).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("sends a terminal stream_not_found frame when the followed stream is deleted", async () => {
    const stream = await newStream();
    await append(stream, ["a"]);
    const reader = new FrameReader(await openSession(stream, "seq_num=1"));
    expect((await reader.batch()).records).toEqual([]);
    const del = await api(`/streams/${encodeURIComponent(stream)}`, { method: "DELETE", basin });
    expect(del.status).toBe(202);
    const terminal = await reader.next();
    expect(terminal).toMatchObject({ terminal: true, status: 404 });
    expect(JSON.parse((terminal as Extract<Frame, { terminal: true }>).body)).toMatchObject({ code: "stream_not_found" });
    expect(await reader.next()).toBeUndefined();
  });

  it.each(["zstd", "gzip"] as const)("compresses large batches with %s when the client accepts it", async (compression) => {
    const stream = await newStream();
    const big = "compressible ".repeat(1000);
    await append(stream, [big, "small"]);
    const accept = compression === "zstd" ? "gzip, zstd" : "gzip";
    const reader = new FrameReader(await openSession(stream, "seq_num=0&count=2", { "accept-encoding": accept }));
    const batch = await reader.batch();
    expect(batch.frame.compression).toBe(compression);
    expect(batch.frame.payload.length).toBeLessThan(big.length / 4);
    expect(bodies(batch)).toEqual([big, "small"]);
  });

  it("leaves small frames and clients without Accept-Encoding uncompressed", async () => {
    const stream = await newStream();
    const big = "compressible ".repeat(1000);
    await append(stream, [big]);
    const small = new FrameReader(await openSession(stream, "seq_num=0&wait=1", { "accept-encoding": "zstd" }));
    expect((await small.batch()).frame.compression).toBe("zstd");
    expect((await small.batch()).frame.compression).toBe("none"); // the heartbeat is a few bytes
    const plain = new FrameReader(await openSession(stream, "seq_num=0&count=1", { "accept-encoding": "identity" }));
    expect((await plain.batch()).frame.compression).toBe("none");
  });
});

describe("S2S read errors before the session starts are plain JSON responses", () => {
  it("416 with the tail when the start is beyond it", async () => {
    const stream = await newStream();
    await append(stream, ["a", "b"]);
    const res = await openSession(stream, "seq_num=5");
    expect(res.status).toBe(416);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await jsonOf(res)).toMatchObject({ tail: { seq_num: 2 } });
  });

  it("416 at the tail of an empty stream when the read cannot follow", async () => {
    const stream = await newStream();
    const res = await openSession(stream, "seq_num=0&count=1");
    expect(res.status).toBe(416);
    expect(await jsonOf(res)).toEqual({ tail: { seq_num: 0, timestamp: 0 } });
  });

  it("404 for an unknown stream", async () => {
    await expectErrorBody(await openSession(streamName("nope"), "seq_num=0"), 404, "stream_not_found");
  });

  it("a bad query is rejected before any frame", async () => {
    const res = await openSession(await newStream(), "seq_num=1&tail_offset=1");
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  });
});
