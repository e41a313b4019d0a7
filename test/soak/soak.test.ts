// Bounded soak (`npm run soak -- --minutes N`): a dedicated server (as `npm start` runs it) under steady
// appends for N minutes with 100 followers of five kinds on the same stream (S2 SSE, S2S sessions, S2
// long-polls, Durable Streams SSE and long-polls), every call recorded. Afterwards: the checker passes on the
// whole history, nothing failed, and the server's memory stayed bounded. Figures go to the console and to
// bench/results/soak-*.json (README quotes them).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDsStream, runDsHeadPoller, runDsProducer, runDsReader } from "../history/ds-clients";
import { runPacedWriter, runS2Reader, runS2Writer } from "../history/s2-clients";
import { sleep } from "../history/wire";
import { describeRun, runWorkload, type ClientSpec, type WorkloadResult } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { streamName } from "../support/names";
import { ROOT, startDevServer, type DevServer } from "../support/local-server";
import { percentile, sampleGroupMemory, slopePerMinute, type MemorySample } from "./process-memory";

const minutes = Number(process.env.EDGESTREAM_SOAK_MINUTES ?? "5");
const followers = Number(process.env.EDGESTREAM_SOAK_FOLLOWERS ?? "100");
const appendsPerSec = Number(process.env.EDGESTREAM_SOAK_RATE ?? "5");
const durationMs = minutes * 60_000;
const SAMPLE_EVERY_MS = 5_000;
/** workerd's resident memory must stay below this (MiB) for the whole run. */
const RSS_CEILING_MIB = Number(process.env.EDGESTREAM_SOAK_RSS_MAX_MIB ?? "2048");

let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
});

const RUNNERS: Record<string, ClientSpec["run"]> = {
  sse: (ctx, c) => runS2Reader(ctx, c, "sse"),
  s2s: (ctx, c) => runS2Reader(ctx, c, "s2s"),
  poll: (ctx, c) => runS2Reader(ctx, c, "poll"),
  "ds-sse": (ctx, c) => runDsReader(ctx, c, "ds-sse"),
  "ds-long-poll": (ctx, c) => runDsReader(ctx, c, "ds-long-poll"),
};

/**
 * The follower mix, as shares of `total`: by default 40% S2 SSE, 30% S2S sessions, 10% S2 long-poll, 10% DS
 * SSE, 10% DS long-poll; EDGESTREAM_SOAK_MIX (e.g. `sse=1`) sets other shares.
 */
function followerSpecs(total: number): ClientSpec[] {
  const mix = (process.env.EDGESTREAM_SOAK_MIX ?? "sse=0.4,s2s=0.3,poll=0.1,ds-sse=0.1,ds-long-poll=0.1")
    .split(",").map((part) => part.split("=") as [string, string]);
  const sum = mix.reduce((n, [, share]) => n + Number(share), 0);
  let left = total;
  return mix.map(([kind, share], i) => {
    const count = i === mix.length - 1 ? left : Math.round((total * Number(share)) / sum);
    left -= count;
    if (!RUNNERS[kind]) throw new Error(`unknown follower kind ${kind}`);
    return { kind: `follow-${kind}`, count, role: "reader" as const, run: RUNNERS[kind]! };
  });
}

/** Delivery latency: when each follower got a record, after its append was invoked. */
function deliveryLatencies(result: WorkloadResult): Float64Array {
  const invokedAt = new Float64Array(result.log.length).fill(NaN);
  for (const a of result.history.appends) {
    if (a.outcome.type !== "ok") continue;
    for (let s = a.outcome.start; s < a.outcome.end && s < invokedAt.length; s++) invokedAt[s] = a.invokedAtMs;
  }
  const samples: number[] = [];
  for (const reader of result.history.readers) {
    for (const d of reader.deliveries) {
      const first = d.type === "digests" ? d.from : d.type === "bytes-digest" ? d.from : d.type === "record" ? d.seqNum : undefined;
      const count = d.type === "digests" ? d.digests.length : d.type === "bytes-digest" ? d.next - d.from : d.type === "record" ? 1 : 0;
      if (first === undefined) continue;
      for (let s = first; s < first + count; s++) if (!Number.isNaN(invokedAt[s]!)) samples.push(d.atMs - invokedAt[s]!);
    }
  }
  return Float64Array.from(samples).sort();
}

function cpuPercent(memory: MemorySample[], name: string): number {
  const first = memory[0]!;
  const last = memory[memory.length - 1]!;
  return (100 * ((last.cpuSecs[name] ?? 0) - (first.cpuSecs[name] ?? 0))) / ((last.atMs - first.atMs) / 1000);
}

function appendLatencies(result: WorkloadResult): Float64Array {
  return Float64Array.from(result.history.appends.filter((a) => a.outcome.type === "ok").map((a) => a.completedAtMs - a.invokedAtMs)).sort();
}

describe("soak", () => {
  it(`${minutes} min of steady appends (${appendsPerSec}/s) with ${followers} followers`, { timeout: durationMs + 300_000 }, async () => {
    server = await startDevServer();
    const { baseUrl, pid } = server;
    const target = {
      fetch: (path: string, init?: RequestInit) => fetch(`${baseUrl}${path}`, init),
      token: TEST_ROOT_TOKEN, basin: "durable-streams", stream: streamName("soak"),
    };
    await createDsStream(target);
    const memory: MemorySample[] = [sampleGroupMemory(pid)];
    const clientCpu = process.cpuUsage();
    const result = await runWorkload({
      target, durationMs, callTimeoutMs: 30_000, catchUpTimeoutMs: 60_000, compact: true,
      shape: { binary: true, payloadBytesMax: 256, headersMax: 2 },
      clients: [
        ...followerSpecs(followers),
        { kind: "paced", count: 1, role: "writer", run: (ctx, c) => runPacedWriter(ctx, c, appendsPerSec) },
        { kind: "conditional", count: 1, role: "writer", run: (ctx, c) => runS2Writer(ctx, c, "conditional") },
        { kind: "producer", count: 1, role: "writer", run: (ctx, c) => runDsProducer(ctx, c, 2) },
        { kind: "ds-head", count: 1, role: "writer", run: runDsHeadPoller },
      ],
      during: async () => {
        for (let t = 0; t < durationMs; t += SAMPLE_EVERY_MS) {
          await sleep(SAMPLE_EVERY_MS);
          memory.push(sampleGroupMemory(pid));
        }
      },
      progressEveryMs: 60_000,
      log: (line) => console.log(line),
    });
    memory.push(sampleGroupMemory(pid));

    const report = describeRun(result);
    const workerd = memory.map((m) => m.rssMiB.workerd ?? 0);
    const times = memory.map((m) => m.atMs);
    // Warm-up: the first fifth of the run (followers connecting, first objects, JIT) is not the steady state.
    const steady = Math.floor(memory.length / 5);
    const secondHalf = Math.floor(memory.length / 2);
    const appendMs = appendLatencies(result);
    const deliveryMs = deliveryLatencies(result);
    const figures = {
      minutes, followers, appendsPerSec, seed: result.seed,
      records: result.check.stats.records,
      appends: { acknowledged: result.check.stats.acknowledged, refused: result.check.stats.refused, unknown: result.check.stats.unknown },
      appendLatencyMs: { p50: percentile(appendMs, 50), p99: percentile(appendMs, 99), max: appendMs[appendMs.length - 1] },
      deliveryLatencyMs: { samples: deliveryMs.length, p50: percentile(deliveryMs, 50), p99: percentile(deliveryMs, 99), max: deliveryMs[deliveryMs.length - 1] },
      workerdRssMiB: {
        start: workerd[0], afterWarmUp: workerd[steady], peak: Math.max(...workerd), end: workerd[workerd.length - 1],
        slopeFirstHalfMiBPerMin: slopePerMinute(times.slice(0, secondHalf + 1), workerd.slice(0, secondHalf + 1)),
        slopeSecondHalfMiBPerMin: slopePerMinute(times.slice(secondHalf), workerd.slice(secondHalf)),
      },
      frontAndWranglerRssMiB: { end: memory[memory.length - 1]!.rssMiB.MainThread ?? 0 },
      // CPU over the run, in % of one core: the server's processes, and this process (all the clients).
      cpuPercent: {
        ...Object.fromEntries(Object.keys(memory[memory.length - 1]!.cpuSecs).map((name) => [name, cpuPercent(memory, name)])),
        clients: (100 * (process.cpuUsage(clientCpu).user + process.cpuUsage(clientCpu).system)) / 1e6 / (result.elapsedMs / 1000),
      },
      violations: result.check.violations.length + result.check.suppressed,
      counters: result.counters,
    };
    console.log(report);
    console.log(JSON.stringify(figures, null, 2));
    const dir = join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`), `${JSON.stringify({ figures, memory }, null, 2)}\n`);

    expect(result.check.violations, report).toEqual([]);
    // No errors in a steady state: every append answered (412s of the conditional writer are answers), no client
    // crashed, no S2 follower had to reconnect. (Durable Streams SSE connections end every 55 s by design.)
    expect(result.check.stats.unknown, report).toBe(0);
    expect(Object.keys(result.counters).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
    for (const kind of ["sse", "s2s", "poll"]) expect(result.counters[`read.${kind}.reconnect`] ?? 0, `${kind} reconnects\n${report}`).toBe(0);
    expect(result.history.readers.filter((r) => r.protocol !== "unary")).toHaveLength(followers);
    // Bounded memory. The local runtime's RSS climbs for the first minutes of any load (a trivial Durable
    // Object appending to SQLite does the same: README, Durability) and then levels off; a leak would keep
    // climbing at its rate. So: under a ceiling throughout, and in a run of 4+ minutes the second half grows
    // at less than a quarter of the first half's rate.
    const rss = figures.workerdRssMiB;
    expect(rss.peak, JSON.stringify(rss)).toBeLessThan(RSS_CEILING_MIB);
    if (minutes >= 4) expect(rss.slopeSecondHalfMiBPerMin, JSON.stringify(rss)).toBeLessThan(Math.max(rss.slopeFirstHalfMiBPerMin / 4, 5));
  });
});
