// Clients that walk away (raw TCP, test/history/disconnect-clients.ts): unary S2 and Durable Streams appends
// cut off mid-body (fixed length and chunked), appends whose client leaves before the answer, S2S and
// WebSocket append sessions cut mid-frame, and SSE, S2S, long-poll and DS long-poll reads abandoned
// mid-session, all while ordinary clients write and follow the same stream. Nothing a client cut short
// may take effect, nothing acknowledged may be lost, and the server must keep serving everyone else.
import { describe, expect, it } from "vitest";
import { fetchClients } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import { runDisconnector, type Scenario } from "../history/disconnect-clients";
import { describeRun, runWorkload } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { baseUrl, streamName } from "../support/s2";

describe("faults: clients that disconnect mid-request and mid-session", () => {
  it("cut inputs never take effect, acknowledged ones all do, and everyone else is served", { timeout: 120_000 }, async () => {
    const target = {
      fetch: (path: string, init?: RequestInit) => fetch(`${baseUrl()}${path}`, init),
      token: TEST_ROOT_TOKEN, basin: "durable-streams", stream: streamName("disconnect"),
    };
    await createDsStream(target);
    const scenarios: Partial<Record<Scenario, number>> = {};
    const result = await runWorkload({
      target, durationMs: 8_000,
      clients: [
        ...fetchClients(0.5, { durableStreams: true }),
        { kind: "disconnector", count: 3, role: "writer", run: (ctx, client) => runDisconnector(ctx, client, baseUrl(), scenarios) },
      ],
    });
    const report = describeRun(result);
    console.log(report);
    expect(result.check.violations, report).toEqual([]);
    // Every way of leaving was exercised, and the cut-off appends were checked for absence (refused = cut).
    expect(Object.keys(scenarios).sort(), report).toEqual([
      "cut-chunked", "cut-ds", "cut-json", "cut-proto", "ds-long-poll", "gone-after-body", "long-poll", "s2s-append",
      "s2s-read", "sse-read", "ws-append",
    ]);
    const cut = result.history.appends.filter((a) => a.outcome.type === "rejected" && a.outcome.status === 0);
    expect(cut.length, report).toBeGreaterThan(10);
    // Inputs sent whole before leaving reached the server: some of them were applied.
    expect(result.check.stats.unknownApplied, report).toBeGreaterThan(0);
    // The ordinary clients kept being served throughout.
    expect(result.check.stats.acknowledged, report).toBeGreaterThan(100);
    expect(Object.keys(result.counters).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
    const health = await fetch(`${baseUrl()}/health`);
    expect(health.status).toBe(200);
  });
});
