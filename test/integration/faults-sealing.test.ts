// R2 errors during sealing, under a recorded history (DESIGN.md §2 crash-safe sealing): while every kind of
// writer and follower works on one stream, the segment bucket refuses half of all puts and some gets, and the
// stream's alarm seals again and again (this project seals after 4 rows / 4 KiB, vitest.config.ts). Reads
// span the SQLite tail and the R2 segments throughout (a read that meets a failing get answers a retryable 503
// and its reader retries). Then R2 recovers. The checker must pass: no acknowledged record lost, duplicated or
// reordered across seals, readers resume from their own position, every answer linearizable.
import { runDurableObjectAlarm } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { fetchClients, lateFollowers } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import { rng } from "../history/recorder";
import { sleep, type Target } from "../history/wire";
import { describeRun, runWorkload } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { env } from "./helpers";
import { hookBucket, segmentsOf } from "./tiered-support";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const unhooks: (() => void)[] = [];
afterEach(() => {
  while (unhooks.length > 0) unhooks.pop()!();
});

describe("faults: R2 errors during sealing", () => {
  it("half the puts and a tenth of the gets fail while seals run under load: the checker passes", { timeout: 90_000 }, async () => {
    const t: Target = {
      fetch: (path, init) => worker.fetch(`http://localhost${path}`, init),
      token: TEST_ROOT_TOKEN, basin: "durable-streams", stream: `seal-${crypto.randomUUID().slice(0, 8)}`,
    };
    await createDsStream(t);
    const random = rng(7);
    let failedPuts = 0;
    let failedGets = 0;
    unhooks.push(hookBucket("put", (original, ...args) => {
      if (random() < 0.5) {
        failedPuts++;
        return Promise.reject(new Error("R2 is unavailable (test)"));
      }
      return original(...args);
    }));
    unhooks.push(hookBucket("get", (original, ...args) => {
      if (random() < 0.1) {
        failedGets++;
        return Promise.reject(new Error("R2 is unavailable (test)"));
      }
      return original(...args);
    }));
    const stub = env.STREAMS.get(env.STREAMS.idFromName(`${t.basin}/${t.stream}`));
    let alarms = 0;
    const result = await runWorkload({
      target: t, durationMs: 6_000, callTimeoutMs: 15_000,
      clients: [...fetchClients(1, { durableStreams: true }), ...lateFollowers(2_000)],
      during: async () => {
        for (let i = 0; i < 30; i++) {
          await sleep(200);
          // Seal now, whatever the backoff after the last failure says: as many seals as possible meet the faults.
          if (await runDurableObjectAlarm(stub).catch(() => false)) alarms++;
        }
        // R2 recovers before the writers stop: the stream is read back, and followers catch up, through it.
        while (unhooks.length > 0) unhooks.pop()!();
        if (await runDurableObjectAlarm(stub).catch(() => false)) alarms++;
      },
    });
    const report = describeRun(result);
    console.log(report.split("\n")[0]);
    expect(result.check.violations, report).toEqual([]);
    expect(Object.keys(result.counters).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
    expect(result.check.stats.acknowledged, report).toBeGreaterThan(20);
    // The faults met real seals, and sealing made progress through them: history lives in R2 segments.
    expect(failedPuts).toBeGreaterThan(0);
    expect(alarms).toBeGreaterThan(0);
    expect((await segmentsOf(t.basin, t.stream)).length, report).toBeGreaterThan(0);
  });
});
