// A reader that goes away must cost nothing afterwards (DESIGN.md §3): its relay lets go of the stream
// object's hibernatable follower socket at once, whatever the protocol and however it left: a long-poll
// aborted mid-wait (S2 unary `wait`, Durable Streams long-poll; needs request.signal, hence the
// enable_request_signal compatibility flag), an SSE or S2S session whose body the client cancels, a
// WebSocket read closed by the client.
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { rootAuthorization } from "../support/auth";
import { appendOk, createBasin, createStream, env, recordsPath, uniqueBasin, uniqueStream } from "./helpers";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const basin = uniqueBasin("leave");
const DS_BASIN = "durable-streams";

beforeAll(async () => {
  await createBasin(basin);
});

const socketsOf = (basinName: string, stream: string) =>
  runInDurableObject(env.STREAMS.get(env.STREAMS.idFromName(`${basinName}/${stream}`)), (_i, state) => state.getWebSockets().length);

async function s2Stream(): Promise<string> {
  const stream = uniqueStream();
  await createStream(basin, stream);
  await appendOk(basin, stream, ["a", "b"]);
  return stream;
}

async function dsStream(): Promise<string> {
  const stream = uniqueStream("ds");
  const res = await worker.fetch(`http://localhost/v1/stream/${stream}`, { method: "PUT", headers: { ...rootAuthorization, "content-type": "text/plain" }, body: "x" });
  expect(res.status).toBe(201);
  return stream;
}

/** The reader is following (its relay subscribed), then it leaves; its socket must be gone within 2 s. */
async function expectLetGo(basinName: string, stream: string, leave: () => Promise<unknown>): Promise<void> {
  await expect.poll(() => socketsOf(basinName, stream), { timeout: 5_000 }).toBe(1);
  await leave();
  await expect.poll(() => socketsOf(basinName, stream), { timeout: 2_000, interval: 50 }).toBe(0);
}

const s2Get = (stream: string, query: string, headers: Record<string, string>, signal?: AbortSignal) =>
  worker.fetch(`http://localhost/v1${recordsPath(stream)}?${query}`, { headers: { ...rootAuthorization, "s2-basin": basin, ...headers }, signal: signal ?? null });

describe("faults: readers that leave mid-session free their follower socket at once", () => {
  it("S2 unary long-poll (wait=30) aborted mid-wait", async () => {
    const stream = await s2Stream();
    const abort = new AbortController();
    const pending = s2Get(stream, "seq_num=2&wait=30", {}, abort.signal).catch((e: unknown) => e);
    await expectLetGo(basin, stream, async () => {
      abort.abort();
      expect(await pending).toBeInstanceOf(Error);
    });
  });

  it("S2 SSE session cancelled by the client", async () => {
    const stream = await s2Stream();
    const res = await s2Get(stream, "seq_num=0", { accept: "text/event-stream" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await expectLetGo(basin, stream, () => reader.cancel());
  });

  it("S2S read session cancelled by the client", async () => {
    const stream = await s2Stream();
    const res = await s2Get(stream, "seq_num=0", { "content-type": "s2s/proto" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await expectLetGo(basin, stream, () => reader.cancel());
  });

  it("WebSocket read closed by the client", async () => {
    const stream = await s2Stream();
    const res = await s2Get(stream, "seq_num=0", { upgrade: "websocket" });
    const ws = res.webSocket!;
    ws.accept();
    await expectLetGo(basin, stream, async () => ws.close(1000, "bye"));
  });

  it("Durable Streams long-poll aborted mid-wait, and a Durable Streams SSE cancelled", async () => {
    const stream = await dsStream();
    const abort = new AbortController();
    const url = `http://localhost/v1/stream/${stream}`;
    const pending = worker.fetch(`${url}?offset=now&live=long-poll`, { headers: rootAuthorization, signal: abort.signal }).catch((e: unknown) => e);
    await expectLetGo(DS_BASIN, stream, async () => {
      abort.abort();
      expect(await pending).toBeInstanceOf(Error);
    });
    const sse = await worker.fetch(`${url}?offset=-1&live=sse`, { headers: rootAuthorization });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    await reader.read();
    await expectLetGo(DS_BASIN, stream, () => reader.cancel());
  });
});
