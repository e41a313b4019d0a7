// Clients that walk away (raw TCP, test/history/disconnect-clients.ts): unary S2 and Durable Streams appends
// cut off mid-body (fixed length and chunked), appends whose client leaves before the answer, S2S and
// WebSocket append sessions cut mid-frame, and SSE, S2S, long-poll and DS long-poll reads abandoned
// mid-session, all while ordinary clients write and follow the same stream. Nothing a client cut short
// may take effect, nothing acknowledged may be lost, and the server must keep serving everyone else.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { encodeAppendInput } from "../../src/protocol/s2/proto";
import { fetchClients } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import { runDisconnector, type Scenario } from "../history/disconnect-clients";
import { describeRun, runWorkload } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { api, baseUrl, basinName, jsonOf, streamName } from "../support/s2";

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
    expect(result.check.stats.acknowledged, report).toBeGreaterThan(20);
    expect(Object.keys(result.counters).filter((k) => k.endsWith(".crashed")), report).toEqual([]);
    const health = await fetch(`${baseUrl()}/health`);
    expect(health.status).toBe(200);
  });
});

describe("faults: a whole message, then the connection drops before the body ends", () => {
  // The bytes sent form a complete, valid input, but the framing (Content-Length, chunked encoding, the S2S
  // session's own end) says more was coming: a server that took the cut as the end of the body would apply it.
  it("is never applied, whatever the framing and encoding", { timeout: 60_000 }, async () => {
    const basin = basinName("cut");
    expect((await api("/basins", { method: "POST", json: { basin } })).status).toBe(201);
    const proto = Buffer.from(encodeAppendInput({ records: [{ headers: [], body: new TextEncoder().encode("complete") }] }));
    const json = Buffer.from('{"records":[{"body":"complete"}]}');
    const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]);
    const cases: [string, string, Buffer][] = [
      ["protobuf, Content-Length longer than sent", `content-type: application/protobuf\r\ncontent-length: ${proto.length + 10}`, proto],
      ["protobuf, chunked with no last chunk", "content-type: application/protobuf\r\ntransfer-encoding: chunked", chunk(proto)],
      ["JSON, Content-Length longer than sent", `content-type: application/json\r\ncontent-length: ${json.length + 10}`, json],
      ["JSON, chunked with no last chunk", "content-type: application/json\r\ntransfer-encoding: chunked", chunk(json)],
    ];
    const { hostname, port } = new URL(baseUrl());
    for (const [name, headers, payload] of cases) {
      const stream = streamName("cut");
      expect((await api("/streams", { method: "POST", basin, json: { stream } })).status).toBe(201);
      const socket = net.connect({ host: hostname, port: Number(port) });
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.on("data", () => undefined);
      socket.write(`POST /v1/streams/${stream}/records HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_ROOT_TOKEN}\r\ns2-basin: ${basin}\r\n${headers}\r\n\r\n`);
      socket.write(payload);
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const tail = await jsonOf(await api(`/streams/${stream}/records/tail`, { basin }));
      expect(tail.tail.seq_num, name).toBe(0);
    }
    // The control: the same bytes with the body properly ended are applied.
    const stream = streamName("whole");
    expect((await api("/streams", { method: "POST", basin, json: { stream } })).status).toBe(201);
    const res = await api(`/streams/${stream}/records`, { method: "POST", basin, headers: { "content-type": "application/protobuf" }, body: proto });
    expect(res.status).toBe(200);
  });
});
