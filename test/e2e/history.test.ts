// The history checker against the real server (S2-API §8–12; DESIGN.md §1 durability): concurrent writers of
// every kind (plain, match_seq_num, fencing, S2S duplex sessions, SDK sessions over h2c, Durable Streams
// producers retrying with the same producer seq) and readers of every kind (unary long-poll, SSE, S2S, SDK
// sessions, Durable Streams long-poll and SSE) on one stream, every call recorded; the checker then proves
// nothing acknowledged is missing, duplicated or reordered and every answer is linearizable.
// `npm run history -- --minutes N` runs the same test for N minutes.
import { describe, expect, it } from "vitest";
import { fetchClients } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import { nodeClients } from "../history/node-clients";
import { describeRun, runWorkload } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { baseUrl, streamName } from "../support/s2";

const minutes = Number(process.env.EDGESTREAM_HISTORY_MINUTES ?? "0");
const durationMs = minutes > 0 ? minutes * 60_000 : 10_000;
const scale = Number(process.env.EDGESTREAM_HISTORY_SCALE ?? "1");
/** The Durable Streams basin of the e2e server (wrangler.toml DS_BASIN): its streams speak both protocols. */
const DS_BASIN = "durable-streams";

describe("history", () => {
  it(`S2 and Durable Streams clients on one stream for ${durationMs / 1000} s: the checker passes`, { timeout: durationMs + 120_000 }, async () => {
    const target = {
      fetch: (path: string, init?: RequestInit) => fetch(`${baseUrl()}${path}`, init),
      token: TEST_ROOT_TOKEN, basin: DS_BASIN, stream: streamName("history"),
    };
    await createDsStream(target);
    const result = await runWorkload({
      target, durationMs, seed: process.env.EDGESTREAM_HISTORY_SEED ? Number(process.env.EDGESTREAM_HISTORY_SEED) : undefined,
      clients: [...fetchClients(scale, { durableStreams: true }), ...nodeClients(baseUrl(), scale)],
      log: (line) => console.log(line),
    });
    const report = describeRun(result);
    console.log(report);
    expect(result.check.violations, report).toEqual([]);
    // Every kind of client did real work: a run where one silently failed would prove nothing about it.
    const c = result.counters;
    for (const name of ["append.ok", "append.seq_num_mismatch", "append.fencing_token_mismatch", "ds.append.ok", "sdk-append.ok", "s2s-append.session", "tail.ok", "read.unary.ok", "read.poll.ok", "read.sse.session", "read.s2s.session", "read.ds-sse.session"]) {
      expect(c[name] ?? 0, `${name}\n${report}`).toBeGreaterThan(0);
    }
    expect(Object.keys(c).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
    expect(result.check.stats.records).toBeGreaterThan(50);
    // Every follower, of every protocol, got every record (mustReach) — checked above; and each got some.
    for (const reader of result.history.readers.filter((r) => r.protocol !== "unary")) {
      expect(reader.deliveries.length, `${reader.client}\n${report}`).toBeGreaterThan(0);
    }
  });
});
