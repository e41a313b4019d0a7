/**
 * S2 clients that record everything they do (recorder.ts) against one stream, over any Target:
 *
 * - writers: plain unary appends, conditional appends (`match_seq_num` from what the client last learnt),
 *   fencing writers (each takes the stream with a fence of its own token, then appends under it), each
 *   append in JSON raw, JSON base64 or protobuf at random;
 * - check-tail pollers;
 * - readers: a unary long-poll follower, SSE and S2S read sessions that follow the tail and reconnect
 *   from their own position after any failure, and one-off unary reads at random positions;
 * - readLog: the whole stream, read back for the checker.
 *
 * No S2 append is ever retried blindly (S2 appends carry no idempotency key): an append whose outcome is
 * unknown is left unknown, and a conditional writer simply learns the tail again.
 */
import { decodeAppendAck, decodeReadBatch, encodeAppendInput } from "../../src/protocol/s2/proto";
import { FrameDecoder, openMessage } from "../../src/protocol/s2/s2s";
import { fenceRecord, type AppendOutcome, type LogRecord, type RecordData } from "./model";
import { makeRecords, type ReaderLog } from "./recorder";
import {
  timed, parseJsonRecord, recordsPath, renderJsonRecord, runReader, s2Failure, s2Headers, sleep, sseEvents, yieldToTimers,
  type ClientContext, type JsonRecord, type Target,
} from "./wire";

type Format = "raw" | "base64" | "proto";

export interface AppendRequest {
  records: readonly RecordData[];
  matchSeqNum?: number;
  fencingToken?: string;
}

/** One unary append, recorded; returns its outcome. */
export async function recordedAppend(ctx: ClientContext, client: string, key: string, request: AppendRequest, format: Format): Promise<AppendOutcome> {
  const finish = ctx.recorder.beginAppend({ key, client, ...request });
  let outcome: AppendOutcome;
  try {
    outcome = await timed(ctx.callTimeoutMs, [], (signal) => unaryAppend(ctx.target, request, format, signal));
  } catch (error) {
    outcome = { type: "unknown", reason: `request failed: ${(error as Error).message}` };
  }
  finish(outcome);
  ctx.count(`append.${outcome.type}`);
  return outcome;
}

export async function unaryAppend(t: Target, request: AppendRequest, format: Format, signal?: AbortSignal): Promise<AppendOutcome> {
  let body: BodyInit;
  const headers = s2Headers(t);
  if (format === "proto") {
    headers["content-type"] = "application/protobuf";
    headers.accept = "application/protobuf";
    body = encodeAppendInput({ records: request.records.map((r) => ({ headers: [...r.headers], body: r.body })), ...conditions(request) });
  } else {
    headers["content-type"] = "application/json";
    headers["s2-format"] = format;
    body = JSON.stringify({ records: request.records.map((r) => renderJsonRecord(r, format)), ...snakeConditions(request) });
  }
  const res = await t.fetch(recordsPath(t), { method: "POST", headers, body, signal: signal ?? null });
  if (res.status !== 200) return s2Failure(res);
  if (format === "proto") {
    const ack = decodeAppendAck(new Uint8Array(await res.arrayBuffer()));
    if (!ack.ok) return { type: "unknown", reason: `undecodable ack: ${ack.error}` };
    const { start, end, tail } = ack.value;
    return { type: "ok", start: start.seqNum, end: end.seqNum, tail: tail.seqNum, startTimestamp: start.timestamp, endTimestamp: end.timestamp };
  }
  const ack = await res.json() as { start: { seq_num: number; timestamp: number }; end: { seq_num: number; timestamp: number }; tail: { seq_num: number } };
  return {
    type: "ok", start: ack.start.seq_num, end: ack.end.seq_num, tail: ack.tail.seq_num,
    startTimestamp: ack.start.timestamp, endTimestamp: ack.end.timestamp,
  };
}

const conditions = (r: AppendRequest) => ({
  ...(r.matchSeqNum !== undefined ? { matchSeqNum: r.matchSeqNum } : {}),
  ...(r.fencingToken !== undefined ? { fencingToken: r.fencingToken } : {}),
});
const snakeConditions = (r: AppendRequest) => ({
  ...(r.matchSeqNum !== undefined ? { match_seq_num: r.matchSeqNum } : {}),
  ...(r.fencingToken !== undefined ? { fencing_token: r.fencingToken } : {}),
});

function pickFormat(random: () => number, binary: boolean): Format {
  const r = random();
  if (!binary) return "raw";
  return r < 0.5 ? "proto" : "base64";
}

/** Records for one append: 1..5 records, binary unless the format is raw. */
function batch(ctx: ClientContext, key: string, format: Format): RecordData[] {
  const count = 1 + Math.floor(ctx.random() * 5);
  return makeRecords(key, count, ctx.random, { ...ctx.shape, binary: ctx.shape.binary && format !== "raw" });
}

export type WriterMode = "plain" | "conditional" | "fencing";

/** Appends until told to stop, each call recorded. */
export async function runS2Writer(ctx: ClientContext, client: string, mode: WriterMode): Promise<void> {
  let n = 0;
  let expected: number | undefined;
  let token: string | undefined;
  while (!ctx.writersStop.aborted) {
    await yieldToTimers();
    n++;
    const format = pickFormat(ctx.random, ctx.random() < 0.8);
    if (mode === "fencing" && (token === undefined || ctx.random() < 0.1)) {
      // Take the stream: a fence carries no condition, so competing fencers keep taking it from each other.
      const next = `${client}-f${n}`;
      const outcome = await recordedAppend(ctx, client, `fence:${next}`, { records: [fenceRecord(next)] }, format === "raw" ? "raw" : format);
      token = outcome.type === "ok" ? next : undefined;
      if (outcome.type === "unknown") await sleep(50, ctx.writersStop);
      continue;
    }
    if (mode === "conditional" && expected === undefined) {
      expected = await recordedTail(ctx, client);
      if (expected === undefined) {
        await sleep(50, ctx.writersStop);
        continue;
      }
    }
    const key = `${client}.${n}`;
    const request: AppendRequest = { records: batch(ctx, key, format) };
    if (mode === "conditional") request.matchSeqNum = expected;
    if (mode === "fencing") request.fencingToken = token;
    const outcome = await recordedAppend(ctx, client, key, request, format);
    if (mode === "conditional") {
      expected = outcome.type === "ok" ? outcome.end : outcome.type === "seq_num_mismatch" ? outcome.expected : undefined;
    }
    if (mode === "fencing" && outcome.type !== "ok") token = undefined;
    if (outcome.type === "unknown") await sleep(50, ctx.writersStop);
  }
}

/**
 * Steady load: one append every `1000 / appendsPerSec` ms (1–5 records, protobuf or JSON), started on time
 * whether or not the previous one has returned, so a slow server shows up as latency, not as a lower rate.
 */
export async function runPacedWriter(ctx: ClientContext, client: string, appendsPerSec: number): Promise<void> {
  const periodMs = 1000 / appendsPerSec;
  const inFlight = new Set<Promise<unknown>>();
  let n = 0;
  for (let next = performance.now(); !ctx.writersStop.aborted; next += periodMs) {
    await sleep(Math.max(0, next - performance.now()), ctx.writersStop);
    if (ctx.writersStop.aborted) break;
    const format = pickFormat(ctx.random, true);
    const key = `${client}.${++n}`;
    const call = recordedAppend(ctx, client, key, { records: batch(ctx, key, format) }, format);
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  }
  await Promise.all(inFlight);
}

/** One check-tail, recorded as a tail observation; undefined if it failed. */
export async function recordedTail(ctx: ClientContext, client: string): Promise<number | undefined> {
  const invokedAtMs = ctx.recorder.now();
  try {
    const tail = await timed(ctx.callTimeoutMs, [], async (signal) => {
      const res = await ctx.target.fetch(`${recordsPath(ctx.target)}/tail`, { headers: s2Headers(ctx.target), signal });
      if (res.status !== 200) {
        await res.body?.cancel();
        ctx.count(`tail.http${res.status}`);
        return undefined;
      }
      return ((await res.json()) as { tail: { seq_num: number } }).tail.seq_num;
    });
    if (tail === undefined) return undefined;
    ctx.recorder.tail(client, invokedAtMs, tail);
    ctx.count("tail.ok");
    return tail;
  } catch {
    ctx.count("tail.failed");
    return undefined;
  }
}

export async function runTailPoller(ctx: ClientContext, client: string): Promise<void> {
  while (!ctx.writersStop.aborted) {
    await recordedTail(ctx, client);
    await sleep(20 + ctx.random() * 80, ctx.writersStop);
  }
}

// ---- readers ----------------------------------------------------------------------------------------------

export type ReaderKind = "poll" | "sse" | "s2s";

/** Follows the stream from `start` until told to stop, reconnecting from its own position after any failure. */
export function runS2Reader(ctx: ClientContext, client: string, kind: ReaderKind, start = 0): Promise<ReaderLog> {
  const session = { poll: pollOnce, sse: sseSession, s2s: s2sSession }[kind];
  return runReader(ctx, client, kind, start, (log) => session(ctx, log));
}

/** One unary read from the reader's position, long-polling up to 1 s. */
function pollOnce(ctx: ClientContext, log: ReaderLog): Promise<void> {
  return timed(ctx.callTimeoutMs, [ctx.readersStop], (signal) => pollWith(ctx, log, signal));
}

async function pollWith(ctx: ClientContext, log: ReaderLog, signal: AbortSignal): Promise<void> {
  const t = ctx.target;
  const proto = ctx.random() < 0.5;
  const headers = s2Headers(t, proto ? { accept: "application/protobuf" } : { "s2-format": "base64" });
  const res = await t.fetch(`${recordsPath(t)}?seq_num=${log.position}&wait=1`, { headers, signal });
  if (res.status === 416) {
    // Not following (wait ran out): the tail it reports is an observation too.
    const body = (await res.json()) as { tail: { seq_num: number } };
    log.tail(body.tail.seq_num);
    return;
  }
  if (res.status !== 200) throw new Error(`read: HTTP ${res.status} ${await res.text()}`);
  if (proto) {
    const batch = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
    if (!batch.ok) throw new Error(batch.error);
    log.records(batch.value.records);
    if (batch.value.tail) log.tail(batch.value.tail.seqNum);
  } else {
    const batch = (await res.json()) as { records: JsonRecord[]; tail?: { seq_num: number } };
    log.records(batch.records.map((x) => parseJsonRecord(x, "base64")));
    if (batch.tail) log.tail(batch.tail.seq_num);
  }
  ctx.count("read.poll.ok");
}

async function sseSession(ctx: ClientContext, log: ReaderLog): Promise<void> {
  const t = ctx.target;
  const res = await t.fetch(`${recordsPath(t)}?seq_num=${log.position}`, {
    headers: s2Headers(t, { accept: "text/event-stream", "s2-format": "base64" }), signal: ctx.readersStop,
  });
  if (res.status !== 200 || !res.body) throw new Error(`SSE: HTTP ${res.status} ${await res.text()}`);
  ctx.count("read.sse.session");
  for await (const event of sseEvents(res.body)) {
    if (event.event === "batch") {
      const batch = JSON.parse(event.data) as { records: JsonRecord[]; tail?: { seq_num: number } };
      log.records(batch.records.map((x) => parseJsonRecord(x, "base64")));
      if (batch.tail) log.tail(batch.tail.seq_num);
    } else if (event.event === "ping") {
      log.tail((JSON.parse(event.data) as { tail: { seq_num: number } }).tail.seq_num);
    } else if (event.event === "error") {
      throw new Error(`SSE error event: ${event.data}`);
    }
  }
  throw new Error("SSE session ended");
}

async function s2sSession(ctx: ClientContext, log: ReaderLog): Promise<void> {
  const t = ctx.target;
  const headers = s2Headers(t, { "content-type": "s2s/proto", "accept-encoding": ctx.random() < 0.5 ? "zstd" : "identity" });
  const res = await t.fetch(`${recordsPath(t)}?seq_num=${log.position}`, { headers, signal: ctx.readersStop });
  if (res.status !== 200 || !res.body) throw new Error(`S2S: HTTP ${res.status} ${await res.text()}`);
  ctx.count("read.s2s.session");
  const decoder = new FrameDecoder();
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error("S2S session ended");
      decoder.push(value);
      for (let next = decoder.next(); ; next = decoder.next()) {
        if (!next.ok) throw new Error(next.error);
        const frame = next.value;
        if (!frame) break;
        if (frame.terminal) throw new Error(`S2S terminal ${frame.status} ${frame.body}`);
        const message = openMessage(frame);
        if (!message.ok) throw new Error(message.error);
        const batch = decodeReadBatch(message.value);
        if (!batch.ok) throw new Error(batch.error);
        log.records(batch.value.records);
        if (batch.value.tail) log.tail(batch.value.tail.seqNum);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** One-off unary reads at random positions below the last known tail: each is a reader of its own. */
export async function runRandomReads(ctx: ClientContext, client: string): Promise<void> {
  let known = 0;
  while (!ctx.writersStop.aborted) {
    const start = Math.floor(ctx.random() * (known + 1));
    const log = ctx.recorder.reader(client, "unary", start);
    try {
      await timed(ctx.callTimeoutMs, [], async (signal) => {
        const res = await ctx.target.fetch(`${recordsPath(ctx.target)}?seq_num=${start}&count=${1 + Math.floor(ctx.random() * 50)}`, {
          headers: s2Headers(ctx.target, { accept: "application/protobuf" }), signal,
        });
        if (res.status === 416) log.tail(((await res.json()) as { tail: { seq_num: number } }).tail.seq_num);
        else if (res.status === 200) {
          const batch = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
          if (batch.ok) for (const r of batch.value.records) log.record(r.seqNum, r.body, r.timestamp, r.headers);
        } else await res.body?.cancel();
      });
      known = Math.max(known, log.position);
      ctx.count("read.unary.ok");
    } catch {
      ctx.count("read.unary.failed");
    }
    await sleep(20 + ctx.random() * 50, ctx.writersStop);
  }
}

/** The whole stream from seq 0 to its tail, read with unary protobuf reads (retried: the checker needs it). */
export async function readLog(t: Target, attempts = 20): Promise<{ log: LogRecord[]; tail: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const tailRes = await t.fetch(`${recordsPath(t)}/tail`, { headers: s2Headers(t) });
      if (tailRes.status !== 200) throw new Error(`check-tail: HTTP ${tailRes.status} ${await tailRes.text()}`);
      const tail = ((await tailRes.json()) as { tail: { seq_num: number } }).tail.seq_num;
      const log: LogRecord[] = [];
      while (log.length < tail) {
        const res = await t.fetch(`${recordsPath(t)}?seq_num=${log.length}`, { headers: s2Headers(t, { accept: "application/protobuf" }) });
        if (res.status !== 200) throw new Error(`read at ${log.length}: HTTP ${res.status} ${await res.text()}`);
        const batch = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
        if (!batch.ok) throw new Error(batch.error);
        if (batch.value.records.length === 0) throw new Error(`read at ${log.length} returned nothing below tail ${tail}`);
        for (const r of batch.value.records) log.push({ seqNum: r.seqNum, timestamp: r.timestamp, headers: r.headers, body: r.body });
        if (log[log.length - 1]!.seqNum !== log.length - 1 + (log[0]?.seqNum ?? 0)) break;
      }
      return { log, tail };
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(250);
    }
  }
}
