// Faults inside workerd (DESIGN.md §1, §3; PLATFORM.md §0.5): the stream's object evicted again and again
// while appends and reads are in flight, and every object of the runtime reset at once, as a deploy does,
// while readers follow. Recorded histories (test/history) must pass the checker: nothing acknowledged is
// lost or repeated, every follower resumes from its own position and reaches the final tail, and every
// answer is linearizable. S2 and Durable Streams clients share the stream, as in the e2e history run.
import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fetchClients, lateFollowers } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import { HistoryRecorder, makeRecords, rng } from "../history/recorder";
import { recordedAppend } from "../history/s2-clients";
import { sleep, type ClientContext, type Target } from "../history/wire";
import { describeRun, runWorkload, type WorkloadResult } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { env } from "./helpers";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const DS_BASIN = "durable-streams";

function target(prefix: string): Target {
  return {
    fetch: (path, init) => worker.fetch(`http://localhost${path}`, init),
    token: TEST_ROOT_TOKEN, basin: DS_BASIN, stream: `${prefix}-${crypto.randomUUID().slice(0, 8)}`,
  };
}

/** A client context for appends the fault hook makes itself, recorded in the same history. */
function burstContext(t: Target, recorder: HistoryRecorder): ClientContext {
  const never = new AbortController().signal;
  return {
    target: t, recorder, random: rng(42), shape: { binary: true, payloadBytesMax: 64, headersMax: 1 },
    writersStop: never, readersStop: never, callTimeoutMs: 15_000, count: () => undefined,
  };
}

const objectOf = (t: Target) => env.STREAMS.get(env.STREAMS.idFromName(`${t.basin}/${t.stream}`));

/** Follower sockets the stream's object holds: relays that did not let go would leak here. */
const followerSockets = (t: Target) => runInDurableObject(objectOf(t), (_instance, state) => state.getWebSockets().length);

function expectClean(result: WorkloadResult): void {
  const report = describeRun(result);
  console.log(report.split("\n")[0]);
  expect(result.check.violations, report).toEqual([]);
  expect(Object.keys(result.counters).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
  expect(result.check.stats.acknowledged, report).toBeGreaterThan(20);
  for (const reader of result.history.readers.filter((r) => r.protocol !== "unary")) {
    expect(reader.mustReach, `${reader.client}\n${report}`).toBeGreaterThan(0);
  }
}

describe("faults: the stream's object evicted", () => {
  it("mid-append and mid-read, hibernating or closing follower sockets: the checker passes", { timeout: 90_000 }, async () => {
    const t = target("evict");
    await createDsStream(t);
    let evictions = 0;
    const result = await runWorkload({
      target: t, durationMs: 6_000, callTimeoutMs: 15_000,
      clients: [...fetchClients(1, { durableStreams: true }), ...lateFollowers(2_000)],
      during: async () => {
        for (let i = 0; i < 10; i++) {
          await sleep(500);
          // Graceful: in-flight calls drain first; hibernated sockets survive, closed ones make relays resubscribe.
          await evictDurableObject(objectOf(t), { webSockets: i % 2 === 0 ? "hibernate" : "close" }).then(() => evictions++, () => undefined);
        }
      },
    });
    expectClean(result);
    expect(evictions).toBeGreaterThanOrEqual(5);
    // Closed sockets made the followers resubscribe, and they still got everything (mustReach, checked).
    expect(result.counters["read.sse.session"] ?? 0).toBeGreaterThan(0);
    // Every reader let go of its follower socket when it stopped.
    await expect.poll(() => followerSockets(t), { timeout: 10_000 }).toBe(0);
  });
});

describe("faults: deploy-style reset of every object", () => {
  it("while readers follow and writers append: nothing acknowledged lost, readers resume", { timeout: 90_000 }, async () => {
    const t = target("reset");
    await createDsStream(t);
    let resets = 0;
    const result = await runWorkload({
      target: t, durationMs: 6_000, callTimeoutMs: 15_000,
      clients: [...fetchClients(1, { durableStreams: true }), ...lateFollowers(1_500)],
      during: async (recorder) => {
        const ctx = burstContext(t, recorder);
        for (let i = 0; i < 4; i++) {
          await sleep(1_200);
          // A burst of appends in flight, then abruptly: every object (stream, basin, account) loses its
          // instance and its sockets while they run.
          const burst = Array.from({ length: 20 }, (_, j) => recordedAppend(ctx, "burst", `burst.${i}.${j}`, {
            records: makeRecords(`burst.${i}.${j}`, 3, ctx.random, ctx.shape),
          }, j % 2 === 0 ? "proto" : "base64"));
          await sleep(i * 2);
          await abortAllDurableObjects();
          resets++;
          await Promise.all(burst);
        }
      },
    });
    expectClean(result);
    expect(resets).toBe(4);
    // The resets cut live sessions: readers had to reconnect, and still reached the final tail.
    const reconnects = Object.entries(result.counters).filter(([k]) => k.endsWith(".reconnect")).reduce((n, [, v]) => n + v, 0);
    expect(reconnects, describeRun(result)).toBeGreaterThan(0);
  });
});
