// WebSocket read sessions over real sockets (src/http/s2/read-websocket.ts): catch-up, live, done, resumption
// by last_event_id and by seq_num, deletion, and failures answered as plain HTTP before any upgrade.
import { request } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { rootAuthorization } from "../support/auth";
import { api, b64, baseUrl, basinName, jsonOf, streamName } from "../support/s2";

let basin: string;

beforeAll(async () => {
  basin = basinName("ws-read");
  expect((await api("/basins", { method: "POST", json: { basin } })).status).toBe(201);
});

async function newStream(bodies: string[] = []): Promise<string> {
  const stream = streamName("ws");
  expect((await api("/streams", { method: "POST", basin, json: { stream } })).status).toBe(201);
  if (bodies.length > 0) await append(stream, bodies);
  return stream;
}

const recordsPath = (stream: string) => `/v1/streams/${encodeURIComponent(stream)}/records`;

async function append(stream: string, bodies: string[]): Promise<void> {
  const res = await api(`/streams/${encodeURIComponent(stream)}/records`, {
    method: "POST", basin, json: { records: bodies.map((body) => ({ body })) },
  });
  expect(res.status).toBe(200);
}

interface Message { type: "batch" | "ping" | "error" | "done"; id?: string; batch?: Batch; tail?: { seq_num: number }; error?: { code: string } }
interface Batch { records: { seq_num: number; body: string }[]; tail?: { seq_num: number; timestamp: number } }

/** A WebSocket reader, as a browser would open one: basin and format in the query. */
class WsReader {
  readonly messages: Message[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;

  constructor(stream: string, query: string) {
    const url = `${baseUrl().replace(/^http/, "ws")}${recordsPath(stream)}?basin=${basin}&${query}`;
    // Node's WebSocket (undici) may send headers; a browser's cannot, so only auth travels in one here.
    const Socket = WebSocket as unknown as new (url: string, init: { headers: Record<string, string> }) => WebSocket;
    this.#socket = new Socket(url, { headers: { ...rootAuthorization } });
    this.opened = new Promise((resolve, reject) => {
      this.#socket.addEventListener("open", () => resolve());
      this.#socket.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
    });
    this.closed = new Promise((resolve) => {
      this.#socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
    });
    this.#socket.addEventListener("message", (event) => this.messages.push(JSON.parse(event.data as string)));
  }

  async waitFor(predicate: (messages: Message[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  batches(): Message[] {
    return this.messages.filter((m) => m.type === "batch");
  }

  seqNums(): number[] {
    return this.batches().flatMap((m) => m.batch!.records.map((r) => r.seq_num));
  }

  bodies(): string[] {
    return this.batches().flatMap((m) => m.batch!.records.map((r) => r.body));
  }

  close(): Promise<{ code: number; reason: string }> {
    this.#socket.close(1000, "client done");
    return this.closed;
  }
}

/** An upgrade request over raw HTTP/1.1: the status and body when the server refuses to upgrade. */
function rawUpgrade(stream: string, query: string): Promise<{ status: number; body: string }> {
  const url = `${baseUrl()}${recordsPath(stream)}?${query}`;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        ...rootAuthorization,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.from("0123456789abcdef").toString("base64"),
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("WebSocket read sessions", () => {
  it("catch-up, a ping, live batches with the tail, then done and close 1000", async () => {
    const stream = await newStream(["a", "b", "c"]);
    const reader = new WsReader(stream, "seq_num=0&count=5&wait=20");
    await reader.opened;
    await reader.waitFor((m) => m.some((x) => x.type === "ping"));
    const [catchUp] = reader.batches();
    expect(catchUp).toEqual({
      type: "batch",
      id: expect.stringMatching(/^2,3,\d+$/),
      batch: { records: ["a", "b", "c"].map((body, i) => ({ seq_num: i, timestamp: expect.any(Number), body })) },
    });
    expect(reader.messages.find((m) => m.type === "ping")).toMatchObject({ timestamp: expect.any(Number), tail: { seq_num: 3 } });

    await append(stream, ["d"]);
    await reader.waitFor((m) => m.filter((x) => x.type === "batch").length === 2);
    await append(stream, ["e", "f"]);
    expect(await reader.closed).toMatchObject({ code: 1000 });

    // The count budget of 5 cuts the second live batch after "e"; each live batch carries the tail after it.
    expect(reader.bodies()).toEqual(["a", "b", "c", "d", "e"]);
    expect(reader.seqNums()).toEqual([0, 1, 2, 3, 4]);
    const [, first, second] = reader.batches();
    expect(first).toMatchObject({ id: expect.stringMatching(/^3,4,\d+$/), batch: { tail: { seq_num: 4 } } });
    expect(second).toMatchObject({ id: expect.stringMatching(/^4,5,\d+$/), batch: { tail: { seq_num: 6 } } });
    expect(reader.messages.at(-1)).toEqual({ type: "done" });
  });

  it("renders bodies as the format query parameter asks", async () => {
    const stream = await newStream(["héllo"]);
    const reader = new WsReader(stream, "seq_num=0&count=1&format=base64");
    expect(await reader.closed).toMatchObject({ code: 1000 });
    expect(reader.bodies()).toEqual([b64("héllo")]);
  });

  it("resumes from last_event_id: the rest of the records, the budget reduced by what was delivered", async () => {
    const stream = await newStream(["r0", "r1", "r2", "r3", "r4"]);
    const first = new WsReader(stream, "seq_num=0&count=2");
    expect(await first.closed).toMatchObject({ code: 1000 });
    expect(first.seqNums()).toEqual([0, 1]);
    const id = first.batches().at(-1)!.id!;
    expect(id).toMatch(/^1,2,\d+$/);

    const second = new WsReader(stream, `seq_num=0&count=4&last_event_id=${id}`);
    expect(await second.closed).toMatchObject({ code: 1000 });
    expect(second.seqNums()).toEqual([2, 3]);
    // Ids keep counting from where the first connection stopped.
    expect(second.batches().at(-1)!.id).toMatch(/^3,4,\d+$/);
  });

  it("resumes a follow after the client dropped, with seq_num = last + 1: nothing lost, nothing twice", async () => {
    const stream = await newStream(["r0", "r1"]);
    const first = new WsReader(stream, "seq_num=0");
    await first.waitFor((m) => m.some((x) => x.type === "ping"));
    await append(stream, ["r2"]);
    await first.waitFor(() => first.seqNums().length === 3);
    await first.close();

    await append(stream, ["r3", "r4"]);
    const last = first.seqNums().at(-1)!;
    const second = new WsReader(stream, `seq_num=${last + 1}`);
    await second.waitFor((m) => m.some((x) => x.type === "ping"));
    await append(stream, ["r5"]);
    await second.waitFor(() => second.seqNums().length === 3);
    await second.close();

    expect([...first.bodies(), ...second.bodies()]).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    expect([...first.seqNums(), ...second.seqNums()]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("ends a follower with an error message and close 4404 when the stream is deleted", async () => {
    const stream = await newStream(["a"]);
    const reader = new WsReader(stream, "seq_num=1");
    await reader.waitFor((m) => m.some((x) => x.type === "ping"));
    expect((await api(`/streams/${encodeURIComponent(stream)}`, { method: "DELETE", basin })).status).toBe(202);
    expect(await reader.closed).toMatchObject({ code: 4404 });
    expect(reader.messages.at(-1)).toMatchObject({ type: "error", error: { code: "stream_not_found" } });
  });

  it("answers failures before the session as plain HTTP, without upgrading", async () => {
    const stream = await newStream(["a"]);
    const beyond = await rawUpgrade(stream, `basin=${basin}&seq_num=7`);
    expect(beyond.status).toBe(416);
    expect(JSON.parse(beyond.body)).toEqual({ tail: { seq_num: 1, timestamp: expect.any(Number) } });

    const missing = await rawUpgrade(streamName("missing"), `basin=${basin}&seq_num=0`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ code: "stream_not_found" });

    const bad = await rawUpgrade(stream, `basin=${basin}&count=-1`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ code: "bad_query" });

    const ok = await rawUpgrade(stream, `basin=${basin}&seq_num=0&count=1`);
    expect(ok.status).toBe(101);

    // A browser sees a refused upgrade only as a failed connection.
    const refused = new WsReader(stream, "seq_num=7");
    await expect(refused.opened).rejects.toThrow();
    expect((await refused.closed).code).toBe(1006);
  });

  it("serves a plain GET on the same URL as before (no upgrade header, unary JSON)", async () => {
    const stream = await newStream(["a"]);
    const res = await api(`/streams/${encodeURIComponent(stream)}/records?seq_num=0`, { basin });
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).records.map((r: { body: string }) => r.body)).toEqual(["a"]);
  });
});
