/**
 * Durable Streams clients that record what they do, on the same engine stream the S2 clients use (a DS
 * stream is a stream of the Durable Streams basin): idempotent producers that retry every unknown outcome
 * with the same (id, epoch, seq) until it is acknowledged, HEAD pollers, and long-poll and SSE followers.
 *
 * The stream is binary (application/octet-stream): one append is one record, a read returns the bodies of
 * the records [offset, Stream-Next-Offset) concatenated, which the checker compares byte for byte.
 */
import type { AppendOutcome } from "./model";
import { makeRecords, type ReaderLog } from "./recorder";
import { timed, fromBase64, runReader, sleep, sseEvents, yieldToTimers, type ClientContext, type Target } from "./wire";

const CONTENT_TYPE = "application/octet-stream";

export const dsPath = (t: Target) => `/v1/stream/${encodeURIComponent(t.stream)}`;

const dsHeaders = (t: Target, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${t.token}`, ...extra });

/** `0000000000000042_0000000000000000` → 42 (protocol/ds/offset.ts). */
export function offsetSeqNum(offset: string | null): number {
  const match = /^(\d+)_0+$/.exec(offset ?? "");
  if (!match) throw new Error(`not an offset: ${offset}`);
  return Number(match[1]);
}

const renderOffset = (seqNum: number) => `${String(seqNum).padStart(16, "0")}_${"0".repeat(16)}`;

/** Creates the stream through Durable Streams (idempotent), so both protocols can use it. */
export async function createDsStream(t: Target): Promise<void> {
  const res = await t.fetch(dsPath(t), { method: "PUT", headers: dsHeaders(t, { "content-type": CONTENT_TYPE }) });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) throw new Error(`DS create: HTTP ${res.status} ${text}`);
}

/**
 * A producer (PROTOCOL.md §5.2.1): batches numbered 0, 1, 2… in epoch 0; a batch whose outcome is unknown is
 * sent again with the same numbers until the server acknowledges it, as new data (200) or as a duplicate (204).
 */
export async function runDsProducer(ctx: ClientContext, client: string, batchesPerSec?: number): Promise<void> {
  const t = ctx.target;
  const producerId = `${client}-${Math.floor(ctx.random() * 1e9).toString(36)}`;
  for (let seq = 0; !ctx.writersStop.aborted; seq++) {
    await (batchesPerSec ? sleep(1000 / batchesPerSec, ctx.writersStop) : yieldToTimers());
    if (ctx.writersStop.aborted) break;
    const key = `${producerId}.s${seq}`;
    const [record] = makeRecords(key, 1, ctx.random, { ...ctx.shape, headersMax: 0 });
    // Retry until acknowledged; writers that are told to stop mid-retry leave the batch unknown.
    for (let attempt = 0; ; attempt++) {
      const finish = ctx.recorder.beginAppend({ key, client, records: [record!] });
      let outcome: AppendOutcome;
      try {
        outcome = await timed(ctx.callTimeoutMs, [], async (signal) => producerOutcome(await t.fetch(dsPath(t), {
          method: "POST",
          headers: dsHeaders(t, {
            "content-type": CONTENT_TYPE, "producer-id": producerId, "producer-epoch": "0", "producer-seq": String(seq),
          }),
          body: record!.body,
          signal,
        })));
      } catch (error) {
        outcome = { type: "unknown", reason: `request failed: ${(error as Error).message}` };
      }
      finish(outcome);
      ctx.count(`ds.append.${outcome.type}`);
      if (outcome.type === "ok" || outcome.type === "duplicate") break;
      if (outcome.type !== "unknown") throw new Error(`producer ${producerId} seq ${seq} refused: ${JSON.stringify(outcome)}`);
      if (ctx.writersStop.aborted && attempt > 20) return;
      await sleep(50 + ctx.random() * 100);
    }
  }
}

async function producerOutcome(res: Response): Promise<AppendOutcome> {
  const text = await res.text().catch(() => "");
  const next = res.headers.get("stream-next-offset");
  if (res.status === 200) {
    const end = offsetSeqNum(next);
    return { type: "ok", start: end - 1, end, tail: end };
  }
  if (res.status === 204) return { type: "duplicate", tail: offsetSeqNum(next) };
  if (res.status >= 400 && res.status < 500 && res.status !== 408) return { type: "rejected", status: res.status, code: text.slice(0, 80) };
  return { type: "unknown", reason: `HTTP ${res.status} ${text.slice(0, 80)}` };
}

/** HEAD: the tail, as an observation. */
export async function runDsHeadPoller(ctx: ClientContext, client: string): Promise<void> {
  const t = ctx.target;
  while (!ctx.writersStop.aborted) {
    const invokedAtMs = ctx.recorder.now();
    try {
      await timed(ctx.callTimeoutMs, [], async (signal) => {
        const res = await t.fetch(dsPath(t), { method: "HEAD", headers: dsHeaders(t), signal });
        if (res.status === 200) ctx.recorder.tail(client, invokedAtMs, offsetSeqNum(res.headers.get("stream-next-offset")));
        ctx.count(`ds.head.http${res.status}`);
      });
    } catch {
      ctx.count("ds.head.failed");
    }
    await sleep(30 + ctx.random() * 70, ctx.writersStop);
  }
}

export type DsReaderKind = "ds-long-poll" | "ds-sse";

/** Follows from `start` with catch-up and long-poll reads, or SSE, reconnecting from its position. */
export function runDsReader(ctx: ClientContext, client: string, kind: DsReaderKind, start = 0): Promise<ReaderLog> {
  return runReader(ctx, client, kind, start, (log) => kind === "ds-long-poll" ? longPollOnce(ctx, log) : sseSession(ctx, log));
}

function longPollOnce(ctx: ClientContext, log: ReaderLog): Promise<void> {
  return timed(ctx.callTimeoutMs, [ctx.readersStop], (signal) => longPollWith(ctx, log, signal));
}

async function longPollWith(ctx: ClientContext, log: ReaderLog, signal: AbortSignal): Promise<void> {
  const t = ctx.target;
  const from = log.position;
  const live = ctx.random() < 0.7 ? "&live=long-poll" : "";
  const res = await t.fetch(`${dsPath(t)}?offset=${renderOffset(from)}${live}`, { headers: dsHeaders(t), signal });
  const next = offsetSeqNum(res.headers.get("stream-next-offset"));
  if (res.status === 204) {
    log.tail(next);
    return;
  }
  if (res.status !== 200) throw new Error(`DS read: HTTP ${res.status} ${await res.text()}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (next > from || bytes.length > 0) log.bytes(from, next, bytes);
  if (res.headers.get("stream-up-to-date") === "true") log.tail(next);
  ctx.count(`read.ds${live ? "-long-poll" : "-catch-up"}.ok`);
  if (!live && res.headers.get("stream-up-to-date") === "true") await sleep(50, ctx.readersStop);
}

async function sseSession(ctx: ClientContext, log: ReaderLog): Promise<void> {
  const t = ctx.target;
  const res = await t.fetch(`${dsPath(t)}?offset=${renderOffset(log.position)}&live=sse`, { headers: dsHeaders(t), signal: ctx.readersStop });
  if (res.status !== 200 || !res.body) throw new Error(`DS SSE: HTTP ${res.status} ${await res.text()}`);
  const base64 = res.headers.get("stream-sse-data-encoding") === "base64";
  ctx.count("read.ds-sse.session");
  let pending: Uint8Array | undefined;
  for await (const event of sseEvents(res.body)) {
    if (event.event === "data") {
      pending = base64 ? fromBase64(event.data) : new TextEncoder().encode(event.data);
    } else if (event.event === "control") {
      const control = JSON.parse(event.data) as { streamNextOffset: string; upToDate?: boolean };
      const next = offsetSeqNum(control.streamNextOffset);
      const from = log.position;
      // A control with no data before it that moves the position would skip records: recorded as an empty read.
      if (pending !== undefined || next > from) log.bytes(from, next, pending ?? new Uint8Array());
      pending = undefined;
      if (control.upToDate) log.tail(next);
    }
  }
  throw new Error("DS SSE session ended");
}
