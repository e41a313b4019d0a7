/**
 * Clients that walk away (Node, raw TCP): each iteration opens a connection, does part of a request or a
 * session, and destroys the socket. What they sent is recorded so the checker can hold the server to it:
 *
 *   incomplete request body (unary S2 or DS append, fixed length or chunked)   → must never take effect
 *   complete body, socket destroyed before the answer                          → unknown (either way, once)
 *   S2S append session: whole frames, then half a frame, then gone             → whole ones unknown, the cut one never
 *   WebSocket append session: inputs sent, then a cut frame, then gone         → likewise
 *   SSE / S2S read session, S2 long-poll, DS long-poll: gone mid-session        → nothing to record; the server must
 *                                                                                 let go (faults-disconnect tests)
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { encodeAppendInput } from "../../src/protocol/s2/proto";
import { encodeFrame } from "../../src/protocol/s2/s2s";
import type { AppendOutcome, RecordData } from "./model";
import { makeRecords } from "./recorder";
import { renderJsonRecord, recordsPath, sleep, yieldToTimers, type ClientContext } from "./wire";

/** Never applied: the server cannot have had the whole input. */
const CUT: AppendOutcome = { type: "rejected", status: 0, code: "client cut the input short" };
const GONE: AppendOutcome = { type: "unknown", reason: "client disconnected before the answer" };

const SCENARIOS = [
  "cut-json", "cut-chunked", "cut-proto", "cut-ds", "gone-after-body", "s2s-append", "ws-append",
  "sse-read", "s2s-read", "long-poll", "ds-long-poll",
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export async function runDisconnector(ctx: ClientContext, client: string, baseUrl: string, counts: Partial<Record<Scenario, number>> = {}): Promise<void> {
  const { hostname, port } = new URL(baseUrl);
  let n = 0;
  while (!ctx.writersStop.aborted) {
    await yieldToTimers();
    const scenario = SCENARIOS[Math.floor(ctx.random() * SCENARIOS.length)]!;
    const socket = await connect(hostname, Number(port)).catch(() => undefined);
    if (!socket) {
      await sleep(100, ctx.writersStop);
      continue;
    }
    try {
      await play(ctx, client, scenario, socket, () => `${client}.${++n}`);
      counts[scenario] = (counts[scenario] ?? 0) + 1;
      ctx.count(`disconnect.${scenario}`);
    } finally {
      socket.destroy();
    }
    await sleep(10 + ctx.random() * 40, ctx.writersStop);
  }
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => resolve(socket));
    socket.on("error", reject);
    // Responses are read only to wait for bytes; nothing is parsed.
    socket.on("data", () => undefined);
  });
}

function head(ctx: ClientContext, method: string, path: string, headers: Record<string, string>): string {
  const lines = [`${method} ${path} HTTP/1.1`, "host: edgestream", `authorization: Bearer ${ctx.target.token}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Sends, then waits a moment so the bytes reach the server before the socket goes. */
async function send(socket: net.Socket, data: string | Uint8Array, settleMs = 30): Promise<void> {
  await new Promise<void>((resolve) => socket.write(data, () => resolve()));
  await sleep(settleMs);
}

function records(ctx: ClientContext, key: string, binary = true): RecordData[] {
  return makeRecords(key, 1 + Math.floor(ctx.random() * 3), ctx.random, { ...ctx.shape, binary });
}

async function play(ctx: ClientContext, client: string, scenario: Scenario, socket: net.Socket, nextKey: () => string): Promise<void> {
  const t = ctx.target;
  const s2 = { "s2-basin": t.basin };
  const path = recordsPath(t);
  const dsPath = `/v1/stream/${encodeURIComponent(t.stream)}`;
  switch (scenario) {
    case "cut-json":
    case "gone-after-body": {
      const key = nextKey();
      const recs = records(ctx, key);
      const body = Buffer.from(JSON.stringify({ records: recs.map((r) => renderJsonRecord(r, "base64")) }));
      const finish = ctx.recorder.beginAppend({ key, client, records: recs });
      const cut = scenario === "cut-json";
      await send(socket, head(ctx, "POST", path, { ...s2, "content-type": "application/json", "s2-format": "base64", "content-length": String(body.length) }), 0);
      await send(socket, cut ? body.subarray(0, Math.floor(body.length * ctx.random())) : body, cut ? 30 : 0);
      finish(cut ? CUT : GONE);
      return;
    }
    case "cut-chunked":
    case "cut-proto": {
      const key = nextKey();
      const recs = records(ctx, key);
      const body = encodeAppendInput({ records: recs.map((r) => ({ headers: [...r.headers], body: r.body })) });
      const finish = ctx.recorder.beginAppend({ key, client, records: recs });
      const chunked = scenario === "cut-chunked";
      await send(socket, head(ctx, "POST", path, {
        ...s2, "content-type": "application/protobuf", ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(body.length) }),
      }), 0);
      const part = body.subarray(0, 1 + Math.floor((body.length - 1) * ctx.random()));
      await send(socket, chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")]) : part);
      // A chunked body with no terminating 0-length chunk is incomplete, however much of it arrived.
      finish(CUT);
      return;
    }
    case "cut-ds": {
      const key = nextKey();
      const [record] = makeRecords(key, 1, ctx.random, { ...ctx.shape, headersMax: 0 });
      const finish = ctx.recorder.beginAppend({ key, client, records: [record!] });
      await send(socket, head(ctx, "POST", dsPath, { "content-type": "application/octet-stream", "content-length": String(record!.body.length) }), 0);
      await send(socket, record!.body.subarray(0, record!.body.length - 1 - Math.floor(ctx.random() * 5)));
      finish(CUT);
      return;
    }
    case "s2s-append":
      return s2sAppend(ctx, client, socket, nextKey);
    case "ws-append":
      return wsAppend(ctx, client, socket, nextKey);
    case "sse-read":
      await send(socket, head(ctx, "GET", `${path}?seq_num=0`, { ...s2, accept: "text/event-stream" }), 50 + ctx.random() * 200);
      return;
    case "s2s-read":
      await send(socket, head(ctx, "GET", `${path}?seq_num=0`, { ...s2, "content-type": "s2s/proto" }), 50 + ctx.random() * 200);
      return;
    case "long-poll":
      await send(socket, head(ctx, "GET", `${path}?tail_offset=0&wait=30`, s2), 50 + ctx.random() * 200);
      return;
    case "ds-long-poll":
      await send(socket, head(ctx, "GET", `${dsPath}?offset=now&live=long-poll`, {}), 50 + ctx.random() * 200);
      return;
  }
}

/** Whole frames (unknown: they may have been applied), then half of one (never), then gone. */
async function s2sAppend(ctx: ClientContext, client: string, socket: net.Socket, nextKey: () => string): Promise<void> {
  await send(socket, head(ctx, "POST", recordsPath(ctx.target), { "s2-basin": ctx.target.basin, "content-type": "s2s/proto", "transfer-encoding": "chunked" }), 0);
  const chunk = (bytes: Uint8Array) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")]);
  const whole = Math.floor(ctx.random() * 3);
  for (let i = 0; i <= whole; i++) {
    const key = nextKey();
    const recs = records(ctx, key);
    const frame = encodeFrame(encodeAppendInput({ records: recs.map((r) => ({ headers: [...r.headers], body: r.body })) }));
    const finish = ctx.recorder.beginAppend({ key, client, records: recs });
    const last = i === whole;
    await send(socket, chunk(last ? frame.subarray(0, 1 + Math.floor(ctx.random() * (frame.length - 1))) : frame), 5);
    finish(last ? CUT : GONE);
  }
  await sleep(20);
}

/** A WebSocket append session on the raw socket: masked frames (RFC 6455 §5.3), the last one cut. */
async function wsAppend(ctx: ClientContext, client: string, socket: net.Socket, nextKey: () => string): Promise<void> {
  const t = ctx.target;
  const query = `basin=${encodeURIComponent(t.basin)}&access_token=${encodeURIComponent(t.token)}&format=base64`;
  const key64 = randomBytes(16).toString("base64");
  socket.write(`GET /v1/streams/${encodeURIComponent(t.stream)}/records/append?${query} HTTP/1.1\r\nhost: edgestream\r\n`
    + `upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key64}\r\nsec-websocket-version: 13\r\n\r\n`);
  const upgraded = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2_000);
    socket.once("data", (data: Buffer) => {
      clearTimeout(timer);
      resolve(data.toString("latin1").startsWith("HTTP/1.1 101"));
    });
  });
  if (!upgraded) return;
  const whole = Math.floor(ctx.random() * 3);
  for (let i = 0; i <= whole; i++) {
    const key = nextKey();
    const recs = records(ctx, key);
    const frame = wsFrame(Buffer.from(JSON.stringify({ records: recs.map((r) => renderJsonRecord(r, "base64")) })));
    const finish = ctx.recorder.beginAppend({ key, client, records: recs });
    const last = i === whole;
    await send(socket, last ? frame.subarray(0, 1 + Math.floor(ctx.random() * (frame.length - 1))) : frame, 5);
    finish(last ? CUT : GONE);
  }
  await sleep(20);
}

function wsFrame(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([0x81, 0x80 | payload.length]);
  else if (payload.length < 65536) header = Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}
