// Append sessions over a WebSocket (src/http/s2/append-websocket.ts), opened as a browser would: no headers,
// basin and token in the query. JSON and protobuf inputs, acks in input order, the first failure ends the
// session (error message + close 4000 + status) and nothing after it is stored; refusals are plain HTTP.
import { request, type IncomingMessage } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppendInput } from "../../src/domain/types";
import { utf8 } from "../../src/lib/bytes";
import { decodeAppendAck, encodeAppendInput } from "../../src/protocol/s2/proto";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { api, b64, baseUrl, basinName, jsonOf, streamName } from "../support/s2";

let basin: string;

beforeAll(async () => {
  basin = basinName("ws-app");
  expect((await api("/basins", { method: "POST", json: { basin } })).status).toBe(201);
});

async function newStream(): Promise<string> {
  const stream = streamName("wsa");
  expect((await api("/streams", { method: "POST", basin, json: { stream } })).status).toBe(201);
  return stream;
}

const appendPath = (stream: string) => `/v1/streams/${encodeURIComponent(stream)}/records/append`;

async function tailOf(stream: string): Promise<number> {
  const res = await api(`/streams/${encodeURIComponent(stream)}/records/tail`, { basin });
  return (await jsonOf(res)).tail.seq_num;
}

async function bodiesOf(stream: string): Promise<string[]> {
  const res = await api(`/streams/${encodeURIComponent(stream)}/records?seq_num=0`, { basin });
  return (await jsonOf(res)).records.map((record: { body: string }) => record.body);
}

type Received = { kind: "text"; value: any } | { kind: "binary"; value: Uint8Array };

/** A browser-style socket: everything it needs is in the URL. */
class WsAppender {
  readonly received: Received[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;

  constructor(stream: string, query = "", token = TEST_ROOT_TOKEN) {
    const url = `${baseUrl().replace(/^http/, "ws")}${appendPath(stream)}?basin=${basin}&access_token=${token}${query}`;
    this.#socket = new WebSocket(url);
    this.#socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.#socket.addEventListener("open", () => resolve());
      this.#socket.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
    });
    this.closed = new Promise((resolve) => {
      this.#socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
    });
    this.#socket.addEventListener("message", (event) => {
      this.received.push(typeof event.data === "string"
        ? { kind: "text", value: JSON.parse(event.data) }
        : { kind: "binary", value: new Uint8Array(event.data as ArrayBuffer) });
    });
  }

  send(message: string | Uint8Array): void {
    this.#socket.send(message);
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.#socket.close(1000, "client done");
    return this.closed;
  }
}

const jsonInput = (bodies: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ records: bodies.map((body) => ({ body })), ...extra });

const protoInput = (bodies: string[], extra: Partial<AppendInput> = {}) =>
  encodeAppendInput({ records: bodies.map((body) => ({ headers: [], body: utf8(body) })), ...extra });

/** The [start, end) seq nums of the text acks received. */
const textSpans = (received: Received[]) =>
  received.filter((m) => m.kind === "text" && m.value.type === "ack").map((m) => [m.value.ack.start.seq_num, m.value.ack.end.seq_num]);

describe("WebSocket append session", () => {
  it("acks pipelined JSON inputs in order, each with start, end and tail", async () => {
    const stream = await newStream();
    const ws = new WsAppender(stream);
    await ws.opened;
    ws.send(jsonInput(["a", "b"]));
    ws.send(jsonInput(["c"], { match_seq_num: 2 }));
    ws.send(jsonInput(["d"], { match_seq_num: 3 }));
    const received = await ws.waitFor(3);
    expect(textSpans(received)).toEqual([[0, 2], [2, 3], [3, 4]]);
    expect(received[2]).toMatchObject({ kind: "text", value: { type: "ack", ack: { tail: { seq_num: 4 } } } });
    expect((await ws.close()).code).toBe(1000);
    expect(await bodiesOf(stream)).toEqual(["a", "b", "c", "d"]);
  });

  it("takes base64 records with format=base64", async () => {
    const stream = await newStream();
    const ws = new WsAppender(stream, "&format=base64");
    await ws.opened;
    ws.send(JSON.stringify({ records: [{ body: b64("bin\u0000ary") }] }));
    expect(textSpans(await ws.waitFor(1))).toEqual([[0, 1]]);
    await ws.close();
    expect(await bodiesOf(stream)).toEqual(["bin\u0000ary"]);
  });

  it("answers a binary protobuf AppendInput with a binary protobuf AppendAck", async () => {
    const stream = await newStream();
    const ws = new WsAppender(stream);
    await ws.opened;
    ws.send(protoInput(["p1", "p2"]));
    ws.send(jsonInput(["j"]));
    const [first, second] = await ws.waitFor(2);
    expect(first!.kind).toBe("binary");
    const ack = decodeAppendAck((first as { value: Uint8Array }).value);
    expect(ack.ok && [ack.value.start.seqNum, ack.value.end.seqNum]).toEqual([0, 2]);
    expect(second).toMatchObject({ kind: "text", value: { type: "ack", ack: { start: { seq_num: 2 } } } });
    await ws.close();
  });

  it("stops at a failed match_seq_num: earlier acks, the 412 body, close 4412, nothing after stored", async () => {
    const stream = await newStream();
    const ws = new WsAppender(stream);
    await ws.opened;
    ws.send(jsonInput(["a"]));
    ws.send(jsonInput(["b"], { match_seq_num: 1 }));
    ws.send(jsonInput(["x"], { match_seq_num: 7 }));
    ws.send(jsonInput(["never"]));
    const closed = await ws.closed;
    expect(closed.code).toBe(4412);
    expect(textSpans(ws.received)).toEqual([[0, 1], [1, 2]]);
    expect(ws.received.at(-1)).toEqual({ kind: "text", value: { type: "error", error: { seq_num_mismatch: 2 } } });
    expect(ws.received).toHaveLength(3);
    expect(await tailOf(stream)).toBe(2);
  });

  it("stops at bad JSON (400 bad_json) and at a bad protobuf message (400 bad_proto)", async () => {
    for (const [bad, code] of [["{not json", "bad_json"], [new Uint8Array([0x0a, 0x05, 0xff]), "bad_proto"]] as const) {
      const stream = await newStream();
      const ws = new WsAppender(stream);
      await ws.opened;
      ws.send(jsonInput(["ok"]));
      ws.send(bad);
      ws.send(jsonInput(["never"]));
      expect((await ws.closed).code).toBe(4400);
      expect(textSpans(ws.received)).toEqual([[0, 1]]);
      expect(ws.received.at(-1)).toMatchObject({ kind: "text", value: { type: "error", error: { code } } });
      expect(await tailOf(stream)).toBe(1);
    }
  });

  it("validates inputs like a unary append (422 invalid for an empty batch)", async () => {
    const stream = await newStream();
    const ws = new WsAppender(stream);
    await ws.opened;
    ws.send(jsonInput([]));
    expect((await ws.closed).code).toBe(4422);
    expect(ws.received[0]).toMatchObject({ kind: "text", value: { type: "error", error: { code: "invalid" } } });
    expect(await tailOf(stream)).toBe(0);
  });
});

/** A raw upgrade request, to see the HTTP answer a refused upgrade gets. */
async function upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const req = request(`${baseUrl()}${path}`, {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      ...headers,
    },
  });
  req.end();
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("upgrade", (r: IncomingMessage, socket) => (socket.destroy(), resolve(r)));
    req.once("error", reject);
  });
  let text = "";
  for await (const chunk of res) text += chunk;
  return { status: res.statusCode!, body: text ? JSON.parse(text) : undefined };
}

describe("WebSocket append session of an issued token", () => {
  it("stops with 401 authn at the first input after the token is revoked: nothing after it stored", async () => {
    const stream = await newStream();
    const id = `ws-revoked-${Date.now()}`;
    const issued = await api("/access-tokens", {
      method: "POST",
      json: { id, scope: { basins: { prefix: "" }, streams: { prefix: "" }, ops: ["append"] } },
    });
    expect(issued.status).toBe(201);
    const ws = new WsAppender(stream, "", (await jsonOf(issued)).access_token);
    await ws.opened;
    ws.send(jsonInput(["before"]));
    await ws.waitFor(1);
    expect((await api(`/access-tokens/${id}`, { method: "DELETE" })).status).toBe(204);
    ws.send(jsonInput(["after"]));
    expect((await ws.closed).code).toBe(4401);
    expect(textSpans(ws.received)).toEqual([[0, 1]]);
    expect(ws.received.at(-1)).toEqual({ kind: "text", value: { type: "error", error: { code: "authn", message: "access token revoked" } } });
    expect(await bodiesOf(stream)).toEqual(["before"]);
  });
});

describe("WebSocket append session: refusals before the upgrade", () => {
  it("accepts the token from access_token on an upgrade, and refuses a wrong one with 401", async () => {
    const stream = await newStream();
    expect((await upgradeStatus(`${appendPath(stream)}?basin=${basin}&access_token=${TEST_ROOT_TOKEN}`)).status).toBe(101);
    const wrong = await upgradeStatus(`${appendPath(stream)}?basin=${basin}&access_token=wrong`);
    expect(wrong).toMatchObject({ status: 401, body: { code: "authn" } });
    const none = await upgradeStatus(`${appendPath(stream)}?basin=${basin}`);
    expect(none).toMatchObject({ status: 401, body: { code: "authn" } });
  });

  it("never takes access_token from a request that is not a WebSocket upgrade", async () => {
    const res = await fetch(`${baseUrl()}/v1/basins?access_token=${TEST_ROOT_TOKEN}`);
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).code).toBe("authn");
  });

  it("answers a missing stream with 404 and no upgrade", async () => {
    const res = await upgradeStatus(`${appendPath("missing-stream")}?basin=${basin}&access_token=${TEST_ROOT_TOKEN}`);
    expect(res).toMatchObject({ status: 404, body: { code: "stream_not_found" } });
  });

  it("answers a plain GET (no upgrade) with 400 bad_header and other methods with 405", async () => {
    const stream = await newStream();
    const get = await api(`/streams/${encodeURIComponent(stream)}/records/append`, { basin });
    expect(get.status).toBe(400);
    expect((await jsonOf(get)).code).toBe("bad_header");
    const post = await api(`/streams/${encodeURIComponent(stream)}/records/append`, { method: "POST", basin });
    expect(post.status).toBe(405);
  });
});
