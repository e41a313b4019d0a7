// Crash safety (DESIGN.md §1: an append is acknowledged only once its SQLite transaction is durable): a
// dedicated server (front + Miniflare + workerd, as `npm start` runs) is killed with SIGKILL while every kind
// of writer and reader is busy, twice, and restarted each time on the same --persist-to directory and port.
// Clients see their connections die, record those calls as unknown and carry on: producers retry the same
// producer seq, followers reconnect from their own position. Afterwards the checker must pass on the whole
// history: every acknowledged record survived both crashes, byte for byte, none twice, none reordered.
import { afterAll, describe, expect, it } from "vitest";
import { fetchClients } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import { nodeClients } from "../history/node-clients";
import { sleep } from "../history/wire";
import { describeRun, runWorkload } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { streamName } from "../support/names";
import { startDevServer, type DevServer } from "../support/local-server";

const servers: DevServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
});

describe("faults: SIGKILL under load", () => {
  it("kills the server twice mid-load and restarts it on the same state: nothing acknowledged is lost", { timeout: 240_000 }, async () => {
    let server = await startDevServer();
    servers.push(server);
    const { port, dataDir, baseUrl } = server;
    const target = {
      fetch: (path: string, init?: RequestInit) => fetch(`${baseUrl}${path}`, init),
      token: TEST_ROOT_TOKEN, basin: "durable-streams", stream: streamName("sigkill"),
    };
    await createDsStream(target);
    const kills: number[] = [];
    const result = await runWorkload({
      target, durationMs: 1_000, callTimeoutMs: 8_000, catchUpTimeoutMs: 30_000,
      clients: [...fetchClients(1, { durableStreams: true }), ...nodeClients(baseUrl)],
      during: async (recorder) => {
        for (let i = 0; i < 2; i++) {
          await sleep(3_000);
          kills.push(recorder.now());
          await server.kill("SIGKILL");
          server = await startDevServer({ dataDir, port });
          servers.push(server);
        }
        await sleep(3_000);
      },
      log: (line) => console.log(line),
    });
    const report = describeRun(result);
    console.log(report);
    expect(result.check.violations, report).toEqual([]);
    expect(kills).toHaveLength(2);
    // The kills landed under load: appends acknowledged shortly before each kill (which the checker found in
    // the log after the restart), and calls cut off by it.
    for (const killedAt of kills) {
      const ackedBefore = result.history.appends.filter((a) => a.outcome.type === "ok" && a.completedAtMs < killedAt && a.completedAtMs > killedAt - 2_000);
      expect(ackedBefore.length, report).toBeGreaterThan(0);
    }
    expect(result.check.stats.unknown, report).toBeGreaterThan(0);
    // Producers retried through the outage and their retries were deduplicated (no "duplicate" violation).
    expect(result.counters["ds.append.unknown"] ?? 0, report).toBeGreaterThan(0);
    expect(Object.keys(result.counters).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
  });
});
