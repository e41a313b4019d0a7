// A follower slower than its stream must not cost the Worker unbounded memory (DESIGN.md §3; s2-lite: slow
// readers fall back to storage): the object pushes every append to every follower socket, so a relay whose
// reader does not take them would queue them all. Past a bound (FEED_QUEUED_BYTES_MAX) the relay lets go of
// its socket, and the read session catches up through storage once its reader asks again: every record
// arrives, once, in order. (Driven at the session level: through `exports.default.fetch` the runtime buffers
// a response body the test does not read, so an unread SSE body would not hold the session back here.)
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReadOutput } from "../../src/domain/types";
import { FEED_QUEUED_BYTES_MAX, LiveFeed } from "../../src/http/live-feed";
import { readSession } from "../../src/http/read-session";
import { appendOk, createBasin, createStream, env, uniqueBasin, uniqueStream } from "./helpers";

const basin = uniqueBasin("slow");

beforeAll(async () => {
  await createBasin(basin);
});

const sockets = (stream: string) =>
  runInDurableObject(env.STREAMS.get(env.STREAMS.idFromName(`${basin}/${stream}`)), (_i, state) => state.getWebSockets().length);

/** 256 KiB records, three per append (a batch stays under 1 MiB), until more than twice the bound. */
async function appendPastTheBound(stream: string): Promise<number> {
  const body = "x".repeat(256 * 1024);
  const batches = Math.ceil((2 * FEED_QUEUED_BYTES_MAX) / (3 * body.length)) + 1;
  for (let i = 0; i < batches; i++) await appendOk(basin, stream, [body, body, body]);
  return batches * 3;
}

describe("faults: a follower that does not keep up", () => {
  it("a live feed never queues more than the bound: it closes as behind and frees its socket", async () => {
    const stream = uniqueStream();
    await createStream(basin, stream);
    const feed = await LiveFeed.open(env, basin, stream, 0);
    await expect.poll(() => sockets(stream)).toBe(1);
    const body = "y".repeat(256 * 1024);
    let peak = 0;
    for (let i = 0; i < 4; i++) {
      await appendOk(basin, stream, [body, body, body]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      peak = Math.max(peak, feed.queuedBytes);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(FEED_QUEUED_BYTES_MAX);
    expect(await feed.next(Date.now() + 1_000)).toEqual({ kind: "closed", reason: "behind" });
    await expect.poll(() => sockets(stream)).toBe(0);
  });

  it("a read session whose reader pauses catches up through storage: every record once, in order", { timeout: 60_000 }, async () => {
    const stream = uniqueStream();
    await createStream(basin, stream);
    const request = { start: { kind: "seq_num" as const, seqNum: 0 }, limits: {}, clamp: false };
    // What the first read of an empty stream found: nothing, caught up at seq 0.
    const start = { records: [], tail: { seqNum: 0, timestamp: 0 }, nextSeqNum: 0, end: "caught_up" as const };
    const abort = new AbortController();
    const session = readSession({ env, basin, stream, principal: { kind: "root" } }, start, request, abort.signal);
    const seen: number[] = [];
    const take = (output: ReadOutput) => {
      if (output.kind === "batch") for (const r of output.batch.records) seen.push(r.seqNum);
    };
    // The heartbeat that starts following; the next call subscribes and waits for the first live batch.
    take((await session.next()).value as ReadOutput);
    const firstLive = session.next();
    await expect.poll(() => sockets(stream)).toBe(1);
    const total = await appendPastTheBound(stream);
    // The reader took the first live batch, then stopped asking while the rest arrived: its feed let go.
    take((await firstLive).value as ReadOutput);
    await expect.poll(() => sockets(stream), { timeout: 5_000 }).toBe(0);
    while (seen.length < total) {
      const next = await session.next();
      if (next.done) break;
      take(next.value);
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    abort.abort();
    await session.return(undefined);
  });
});
