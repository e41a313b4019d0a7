// Live reads sleep (DESIGN.md §3, S2-API §10.4–10.5): a following reader is held by the Worker and fed by one
// hibernatable WebSocket from the stream's object, so the object can be evicted between appends and heartbeats
// never wake it. Covers SSE, long-poll and WebSocket readers across eviction, object resets and deletion.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { as, issue, tokenId } from "./auth-helpers";
import {
  appendOk, call, createBasin, createStream, env, expectS2Error, expectStatus, recordsPath, uniqueBasin, uniqueStream,
} from "./helpers";

const basin = uniqueBasin("live");

// Captured before any test fakes timers: polling must keep real time.
const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

beforeAll(async () => {
  await createBasin(basin);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function newStream(bodies: string[] = []): Promise<string> {
  const stream = uniqueStream();
  await createStream(basin, stream);
  if (bodies.length > 0) await appendOk(basin, stream, bodies);
  return stream;
}

// The test's own view of the stream's object, bound before any test wraps the namespace to count the Worker's calls.
const getStub = env.STREAMS.get.bind(env.STREAMS);
const objectOf = (stream: string) => getStub(env.STREAMS.idFromName(`${basin}/${stream}`));

/** Hibernatable sockets the stream's object holds (waking it, if it was evicted). */
const socketCount = (stream: string) =>
  runInDurableObject(objectOf(stream), (_instance, state) => state.getWebSockets().length);

async function waitForSockets(stream: string, count: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = await socketCount(stream);
  while (seen !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} follower sockets, still ${seen}`);
    await sleep(20);
    seen = await socketCount(stream);
  }
}

/** Tags the live instance; a later look that finds no tag saw a fresh instance, i.e. the eviction happened. */
const MARK = Symbol.for("live.test.instance");
const markInstance = (stream: string) =>
  runInDurableObject(objectOf(stream), (instance) => {
    (instance as unknown as Record<symbol, boolean>)[MARK] = true;
  });
const isMarkedInstance = (stream: string) =>
  runInDurableObject(objectOf(stream), (instance) => (instance as unknown as Record<symbol, boolean>)[MARK] === true);

interface SseEvent { event?: string; id?: string; data: string }
interface Batch { records: { seq_num: number; body: string }[]; tail?: { seq_num: number; timestamp: number } }

/**
 * Reads an SSE body as a client does: continuously (so the server's stream never waits on the test), parsing
 * events into a queue the test takes from.
 */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #events: SseEvent[] = [];
  #ended = false;

  constructor(res: Response) {
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    this.#reader = res.body!.getReader();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          this.#events.push(parseEvent(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
      }
      if (buffer !== "") this.#events.push({ event: "partial", data: buffer });
    } catch {
      // Cancelled by the test.
    }
    this.#ended = true;
  }

  /** The next event, or undefined when the stream ended. Fails the test after `timeoutMs` of silence. */
  async next(timeoutMs = 5_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#events.length === 0) {
      if (this.#ended) return undefined;
      if (Date.now() > deadline) throw new Error(`no SSE event within ${timeoutMs} ms`);
      await sleep(5);
    }
    return this.#events.shift();
  }

  /** Skips pings; returns the next batch, error or end marker. */
  async nextNonPing(timeoutMs = 5_000): Promise<SseEvent | undefined> {
    for (;;) {
      const event = await this.next(timeoutMs);
      if (event?.event !== "ping") return event;
    }
  }

  async expectPing(timeoutMs = 5_000): Promise<{ timestamp: number; tail: { seq_num: number } }> {
    const event = await this.next(timeoutMs);
    expect(event?.event).toBe("ping");
    return JSON.parse(event!.data);
  }

  async expectBatch(timeoutMs = 5_000): Promise<Batch> {
    const event = await this.nextNonPing(timeoutMs);
    expect(event?.event, JSON.stringify(event)).toBe("batch");
    return JSON.parse(event!.data) as Batch;
  }

  /** Collects batches until `[DONE]`; fails on an error event or an end without `[DONE]`. */
  async batchesUntilDone(timeoutMs = 5_000): Promise<Batch[]> {
    const batches: Batch[] = [];
    for (;;) {
      const event = await this.nextNonPing(timeoutMs);
      expect(event, "stream ended without [DONE]").toBeDefined();
      if (event!.event === undefined && event!.data === "[DONE]") return batches;
      expect(event!.event, JSON.stringify(event)).toBe("batch");
      batches.push(JSON.parse(event!.data) as Batch);
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

function parseEvent(block: string): SseEvent {
  const event: SseEvent = { data: "" };
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
    else if (field === "data") event.data += value;
  }
  return event;
}

const openSse = async (stream: string, query: string) =>
  new SseReader(await call(`${recordsPath(stream)}?${query}`, { basin, headers: { accept: "text/event-stream" } }));

const seqNums = (batches: Batch[]) => batches.flatMap((batch) => batch.records.map((record) => record.seq_num));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Counts every call the Worker makes to any StreamObject (stub creation, RPC, fetch). The tests share the
 * Worker's isolate and `env`, so wrapping the namespace sees the Worker's subrequests; the test's own calls
 * go through `objectOf`, which is not wrapped.
 */
function countStreamObjectCalls(): { readonly calls: string[] } {
  const namespace = env.STREAMS;
  const get = namespace.get.bind(namespace);
  const calls: string[] = [];
  vi.spyOn(namespace, "get").mockImplementation((id, options) => {
    calls.push("get");
    const stub = get(id, options);
    return new Proxy(stub, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          // Reflect.apply, not value.apply: on an RPC stub `.apply` would name a remote property.
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        };
      },
    });
  });
  return { calls };
}

describe("SSE follower across eviction", () => {
  it("holds exactly one hibernatable socket, and gets appends made after the object was evicted", async () => {
    const stream = await newStream(["a", "b"]);
    const reader = await openSse(stream, "seq_num=0");
    const catchUp = await reader.expectBatch();
    expect(catchUp.records.map((r) => r.body)).toEqual(["a", "b"]);
    expect(catchUp.tail).toBeUndefined();
    expect((await reader.expectPing()).tail.seq_num).toBe(2);
    await waitForSockets(stream, 1);

    await markInstance(stream);
    await evictDurableObject(objectOf(stream));
    expect(await isMarkedInstance(stream)).toBe(false);
    expect(await socketCount(stream)).toBe(1);

    await evictDurableObject(objectOf(stream));
    await appendOk(basin, stream, ["c"]);
    const live = await reader.expectBatch();
    expect(live.records.map((r) => [r.seq_num, r.body])).toEqual([[2, "c"]]);
    expect(live.tail?.seq_num).toBe(3);

    await evictDurableObject(objectOf(stream));
    await appendOk(basin, stream, ["d", "e"]);
    const next = await reader.expectBatch();
    expect(next.records.map((r) => [r.seq_num, r.body])).toEqual([[3, "d"], [4, "e"]]);
    expect(seqNums([catchUp, live, next])).toEqual(range(0, 5));
    expect(await socketCount(stream)).toBe(1);

    await reader.cancel();
    await waitForSockets(stream, 0);
  });

  it("sends heartbeats from the Worker without calling the object, which stays asleep", { timeout: 45_000 }, async () => {
    const stream = await newStream(["a"]);
    // Before the reader opens, so the session's own stub is counted too.
    const counter = countStreamObjectCalls();
    const reader = await openSse(stream, "seq_num=1");
    const first = await reader.expectPing();
    expect(first.tail.seq_num).toBe(1);
    await waitForSockets(stream, 1);
    await evictDurableObject(objectOf(stream));
    // The session did call the object to start (read, then the follow subscription): the counter works.
    expect(counter.calls).toEqual(expect.arrayContaining(["read", "fetch"]));

    // Real time: S2 heartbeats come 5–15 s apart (S2-API §10.4), and fake timers cannot drive the Worker's
    // timers from the test's context (workerd refuses I/O across request contexts).
    const before = counter.calls.length;
    const pings = [await reader.expectPing(16_000), await reader.expectPing(16_000)];
    expect(pings[0]!.timestamp - first.timestamp).toBeGreaterThanOrEqual(4_900);
    expect(pings[1]!.timestamp - pings[0]!.timestamp).toBeGreaterThanOrEqual(4_900);
    expect(pings.map((ping) => ping.tail.seq_num)).toEqual([1, 1]);
    expect(counter.calls.slice(before)).toEqual([]);
    vi.restoreAllMocks();

    expect(await socketCount(stream)).toBe(1);
    await appendOk(basin, stream, ["b"]);
    expect((await reader.expectBatch()).records.map((r) => r.seq_num)).toEqual([1]);
    await reader.cancel();
  });

  it("resumes after the object reset with its socket closed: every record once, in order", async () => {
    const stream = await newStream(["r0", "r1"]);
    const reader = await openSse(stream, "seq_num=0");
    const batches = [await reader.expectBatch()];
    await reader.expectPing();
    await waitForSockets(stream, 1);

    await evictDurableObject(objectOf(stream), { webSockets: "close" });
    // Lands while the relay is between subscriptions: it must come back through catch-up.
    await appendOk(basin, stream, ["r2", "r3"]);
    await waitForSockets(stream, 1);
    await appendOk(basin, stream, ["r4"]);
    await evictDurableObject(objectOf(stream), { webSockets: "close" });
    await waitForSockets(stream, 1);
    await appendOk(basin, stream, ["r5"]);

    while (seqNums(batches).length < 6) batches.push(await reader.expectBatch());
    expect(seqNums(batches)).toEqual(range(0, 6));
    expect(batches.flatMap((b) => b.records.map((r) => r.body))).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    expect(await socketCount(stream)).toBe(1);
    await reader.cancel();
  });

  it("ends with an error event stream_not_found when the stream is deleted", async () => {
    const stream = await newStream(["a"]);
    const reader = await openSse(stream, "seq_num=1");
    await reader.expectPing();
    await waitForSockets(stream, 1);
    await evictDurableObject(objectOf(stream));

    await expectStatus(await call(`/streams/${encodeURIComponent(stream)}`, { method: "DELETE", basin }), 202);
    const event = await reader.nextNonPing();
    expect(event?.event).toBe("error");
    expect(JSON.parse(event!.data)).toMatchObject({ code: "stream_not_found" });
    expect(await reader.next()).toBeUndefined();
  });
});

describe("long-poll across eviction", () => {
  it("answers a wait=5 read with an append made after the object was evicted", async () => {
    const stream = await newStream(["x"]);
    const started = Date.now();
    const pending = call(`${recordsPath(stream)}?seq_num=1&wait=5`, { basin });
    await waitForSockets(stream, 1);
    await evictDurableObject(objectOf(stream));
    await appendOk(basin, stream, ["y", "z"]);

    const body = (await expectStatus(await pending, 200)) as Batch;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body.records.map((r) => [r.seq_num, r.body])).toEqual([[1, "y"], [2, "z"]]);
    // The long-poll is over, so the object keeps no socket for it.
    await waitForSockets(stream, 0);
  });

  it("answers an empty batch when nothing arrives within wait", async () => {
    const stream = await newStream(["x"]);
    const started = Date.now();
    const body = (await expectStatus(await call(`${recordsPath(stream)}?seq_num=1&wait=1`, { basin }), 200)) as Batch;
    expect(body.records).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await waitForSockets(stream, 0);
  });
});

describe("fan-out", () => {
  it("delivers every record exactly once, in order, to 50 concurrent SSE readers", { timeout: 30_000 }, async () => {
    const READERS = 50;
    const TOTAL = 25;
    const stream = await newStream(["p0", "p1", "p2", "p3", "p4"]);
    const readers = await Promise.all(
      Array.from({ length: READERS }, () => openSse(stream, `seq_num=0&count=${TOTAL}&wait=30`)),
    );
    const firsts = await Promise.all(readers.map((reader) => reader.expectBatch(10_000)));
    for (const first of firsts) expect(seqNums([first])).toEqual(range(0, 5));
    await Promise.all(readers.map((reader) => reader.expectPing(10_000)));
    await waitForSockets(stream, READERS, 10_000);

    const collected = readers.map((reader) => reader.batchesUntilDone(10_000));
    for (let i = 5; i < TOTAL; i += 2) {
      await appendOk(basin, stream, [`p${i}`, `p${i + 1}`]);
      if (i === 11) await evictDurableObject(objectOf(stream));
    }
    const rest = await Promise.all(collected);
    rest.forEach((batches, i) => {
      const all = [firsts[i]!, ...batches];
      expect(seqNums(all)).toEqual(range(0, TOTAL));
      expect(all.flatMap((b) => b.records.map((r) => r.body))).toEqual(range(0, TOTAL).map((n) => `p${n}`));
    });
    // Every session ended at its count budget and released its socket.
    await waitForSockets(stream, 0, 10_000);
  });
});

/** A WebSocket read through the Worker, in workerd (the e2e suite covers real sockets). */
class WsReader {
  readonly messages: { type: string; [key: string]: unknown }[] = [];
  closed: { code: number; reason: string } | undefined;

  constructor(readonly socket: WebSocket) {
    socket.accept();
    socket.addEventListener("message", (event) => {
      this.messages.push(JSON.parse(event.data as string));
    });
    socket.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  async waitFor(predicate: (reader: WsReader) => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`timed out; messages: ${JSON.stringify(this.messages)}, closed: ${JSON.stringify(this.closed)}`);
      await sleep(10);
    }
  }

  seqNums(): number[] {
    return this.messages.flatMap((m) => (m.type === "batch" ? (m.batch as Batch).records.map((r) => r.seq_num) : []));
  }
}

const openWs = (stream: string, query: string, headers: Record<string, string> = {}) =>
  call(`${recordsPath(stream)}?${query}`, { headers: { upgrade: "websocket", ...headers } });

describe("WebSocket reads", () => {
  it("relays catch-up, pings and live batches across eviction, then done with close 1000", async () => {
    const stream = await newStream(["a", "b"]);
    const res = await openWs(stream, `basin=${basin}&seq_num=0&count=4&wait=10&format=base64`);
    expect(res.status).toBe(101);
    const reader = new WsReader(res.webSocket!);
    await reader.waitFor((r) => r.messages.some((m) => m.type === "ping"));
    expect(reader.messages[0]).toEqual({
      type: "batch",
      id: expect.stringMatching(/^1,2,\d+$/),
      batch: { records: [expect.objectContaining({ seq_num: 0, body: btoa("a") }), expect.objectContaining({ seq_num: 1, body: btoa("b") })] },
    });
    expect(reader.messages[1]).toMatchObject({ type: "ping", timestamp: expect.any(Number), tail: { seq_num: 2 } });
    await waitForSockets(stream, 1);

    await evictDurableObject(objectOf(stream));
    await appendOk(basin, stream, ["c", "d", "e"]);
    await reader.waitFor((r) => r.closed !== undefined);
    // The count budget of 4 cuts the live batch after "d".
    expect(reader.seqNums()).toEqual([0, 1, 2, 3]);
    const batches = reader.messages.filter((m) => m.type === "batch");
    expect(batches[1]).toMatchObject({ id: expect.stringMatching(/^3,4,\d+$/), batch: { tail: { seq_num: 5 } } });
    expect(reader.messages.at(-1)).toEqual({ type: "done" });
    expect(reader.closed?.code).toBe(1000);
    await waitForSockets(stream, 0);
  });

  it("resumes from last_event_id with the budget reduced by what was delivered", async () => {
    const stream = await newStream(["a", "b", "c", "d", "e"]);
    const first = new WsReader((await openWs(stream, `basin=${basin}&seq_num=0&count=2`)).webSocket!);
    await first.waitFor((r) => r.closed !== undefined);
    expect(first.seqNums()).toEqual([0, 1]);
    const id = first.messages.find((m) => m.type === "batch")?.id as string;

    // Same query as before, plus the id: continues at 2 with 3 of the original count=5 left.
    const second = new WsReader((await openWs(stream, `basin=${basin}&seq_num=0&count=5&last_event_id=${id}`)).webSocket!);
    await second.waitFor((r) => r.closed !== undefined);
    expect(second.seqNums()).toEqual([2, 3, 4]);
    const ids = second.messages.filter((m) => m.type === "batch").map((m) => m.id as string);
    expect(ids.at(-1)).toMatch(/^4,5,\d+$/);
    expect(second.messages.at(-1)).toEqual({ type: "done" });

    // seq_num = last + 1 is the other way back in.
    const third = new WsReader((await openWs(stream, `basin=${basin}&seq_num=4&count=10&wait=1`)).webSocket!);
    await third.waitFor((r) => r.closed !== undefined);
    expect(third.seqNums()).toEqual([4]);
    expect(third.closed?.code).toBe(1000);
  });

  it("ends with an error message and close 4404 when the stream is deleted", async () => {
    const stream = await newStream(["a"]);
    const reader = new WsReader((await openWs(stream, "seq_num=1", { "s2-basin": basin })).webSocket!);
    await reader.waitFor((r) => r.messages.some((m) => m.type === "ping"));
    await waitForSockets(stream, 1);
    await expectStatus(await call(`/streams/${encodeURIComponent(stream)}`, { method: "DELETE", basin }), 202);
    await reader.waitFor((r) => r.closed !== undefined);
    expect(reader.messages.at(-1)).toMatchObject({ type: "error", error: { code: "stream_not_found", message: expect.any(String) } });
    expect(reader.closed?.code).toBe(4404);
  });

  it("releases the object's socket when the client closes while following", async () => {
    const stream = await newStream(["a"]);
    const reader = new WsReader((await openWs(stream, `basin=${basin}&seq_num=1`)).webSocket!);
    await reader.waitFor((r) => r.messages.length > 0);
    await waitForSockets(stream, 1);
    reader.socket.close(1000, "bye");
    await waitForSockets(stream, 0);
  });

  it("answers failures before the session as plain HTTP errors, without upgrading", async () => {
    const stream = await newStream(["a"]);
    const missing = await openWs("nope", `basin=${basin}&seq_num=0`);
    expect(missing.webSocket).toBeNull();
    await expectS2Error(missing, 404, "stream_not_found");

    const beyond = await openWs(stream, `basin=${basin}&seq_num=5`);
    expect(beyond.webSocket).toBeNull();
    expect(beyond.status).toBe(416);
    expect(await beyond.json()).toEqual({ tail: { seq_num: 1, timestamp: expect.any(Number) } });

    await expectS2Error(await openWs(stream, `basin=${basin}&seq_num=x`), 400, "bad_query");
    await expectS2Error(await openWs(stream, `basin=${basin}&format=constructor`), 400, "bad_query");
    await expectS2Error(await openWs(stream, `basin=${basin}&last_event_id=1,2`), 400, "bad_query");
    await expectS2Error(await openWs(stream, "basin=NO"), 400, "bad_query");
    await expectS2Error(await openWs(stream, "seq_num=0"), 400, "bad_header");
    await expectS2Error(await openWs(stream, `seq_num=0`, { "s2-basin": basin, "s2-format": "nope" }), 400, "bad_header");
  });
});

describe("a read session of an issued token", () => {
  const openSseAs = async (token: string, stream: string) =>
    new SseReader(await as(token, `${recordsPath(stream)}?seq_num=0`, { basin, headers: { accept: "text/event-stream" } }));

  async function expectAuthnEnd(reader: SseReader, message: string): Promise<void> {
    const event = await reader.nextNonPing();
    expect(event?.event, JSON.stringify(event)).toBe("error");
    expect(JSON.parse(event!.data)).toEqual({ code: "authn", message });
    expect(await reader.next()).toBeUndefined();
  }

  it("ends with authn when its token is revoked, instead of delivering the next batch", async () => {
    const stream = await newStream(["a"]);
    const id = tokenId("live");
    const reader = await openSseAs(await issue({ ops: ["read"] }, { id }), stream);
    expect((await reader.expectBatch()).records.map((r) => r.body)).toEqual(["a"]);
    await reader.expectPing();
    await expectStatus(await call(`/access-tokens/${id}`, { method: "DELETE" }), 204);
    await appendOk(basin, stream, ["b"]);
    await expectAuthnEnd(reader, "access token revoked");
  });

  it("ends with authn when its token expires, instead of delivering the next batch", async () => {
    const stream = await newStream(["a"]);
    const expiresAtMs = Date.now() + 1_500;
    const reader = await openSseAs(await issue({ ops: ["read"] }, { expires_at: new Date(expiresAtMs).toISOString() }), stream);
    expect((await reader.expectBatch()).records.map((r) => r.body)).toEqual(["a"]);
    await reader.expectPing();
    await sleep(expiresAtMs - Date.now() + 100);
    await appendOk(basin, stream, ["b"]);
    await expectAuthnEnd(reader, "access token expired");
  });

  it("of the root token goes on delivering", async () => {
    const stream = await newStream(["a"]);
    const reader = await openSse(stream, "seq_num=0");
    await reader.expectBatch();
    await appendOk(basin, stream, ["b"]);
    expect((await reader.expectBatch()).records.map((r) => r.body)).toEqual(["b"]);
    await reader.cancel();
  });
});
