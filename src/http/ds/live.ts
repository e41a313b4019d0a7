/**
 * Live reads of Durable Streams (PROTOCOL.md §5.7 long-poll, §5.8 SSE) on the engine's read sessions
 * (http/read-session.ts): catch-up over RPC, then a hibernatable follower socket to the stream's object, so a
 * waiting reader never keeps the object awake, and a close (with or without a final append) reaches every
 * waiting reader through the same socket. Keep-alive control events come from the session's heartbeats.
 */
import type { ReadOutput, ReadRequest } from "../../domain/types";
import { isSseBase64, renderSsePayload } from "../../protocol/ds/body";
import { LONG_POLL_DATA, NO_STORE } from "../../protocol/ds/caching";
import { nextCursor } from "../../protocol/ds/cursor";
import { CURSOR_PARAM, STREAM_CURSOR, STREAM_SSE_DATA_ENCODING } from "../../protocol/ds/headers";
import { renderOffset, startSeqNum, type OffsetStart } from "../../protocol/ds/offset";
import { renderControlEvent, renderDataEvent } from "../../protocol/ds/sse";
import type { GuardedRead } from "../../stream/guarded-types";
import { concatBytes } from "../../lib/bytes";
import { renderOncePerBatch } from "../batch-renders";
import { readSession, type SessionTarget } from "../read-session";
import { observeDelivered } from "../metrics/observe";
import { isolateMetrics, type ReadKind } from "../metrics/registry";
import { Rejection, unwrap } from "../rejection";
import { rememberIncarnation } from "./edge-cache";
import { dsBasin, dsStub, longPollTimeoutMs, type DsContext } from "./request";
import { positionHeaders, readHeaders, viewBody, type ReadView } from "./responses";

/**
 * An SSE connection ends after this long and the client reconnects from its last offset, so CDNs can
 * collapse readers and no connection outlives a deploy by much (PROTOCOL.md §5.8; Cloudflare's peer: 55 s).
 */
const SSE_LIFETIME_MS = 55_000;

const liveRequest = (fromSeqNum: number, waitSecs: number | undefined): ReadRequest =>
  ({ start: { kind: "seq_num", seqNum: fromSeqNum }, limits: {}, clamp: true, waitSecs });

const sessionTarget = (c: DsContext, name: string): SessionTarget =>
  ({ env: c.env, basin: dsBasin(c.env), stream: name, principal: c.get("principal") });

async function firstRead(c: DsContext, name: string, start: OffsetStart, kind: ReadKind): Promise<GuardedRead> {
  isolateMetrics.readStarted("ds", kind);
  const read = unwrap(await dsStub(c.env, name).readGuarded({ fromSeqNum: startSeqNum(start) ?? null, touch: true }, kind));
  rememberIncarnation(name, read.incarnation);
  return read;
}

/** Long-poll: data at once if there is any, else the first append, a close, or 204 after the timeout. */
export async function longPoll(c: DsContext, name: string, start: OffsetStart): Promise<Response> {
  const read = await firstRead(c, name, start, "unary");
  const cursor = () => nextCursor(Date.now(), c.req.query(CURSOR_PARAM));
  const view = (records: ReadView["records"], nextSeqNum: number, tailSeqNum: number, closed: boolean): ReadView =>
    ({ contentType: read.contentType, incarnation: read.incarnation, fromSeqNum: read.fromSeqNum, records, nextSeqNum, tailSeqNum, closed });
  const data = (reader: ReadView) => {
    const headers = readHeaders(reader, true);
    headers.set(STREAM_CURSOR, cursor());
    headers.set("cache-control", LONG_POLL_DATA);
    return new Response(viewBody(reader), { status: 200, headers });
  };
  const empty = (tailSeqNum: number, closed: boolean) => {
    const headers = positionHeaders(tailSeqNum, closed);
    if (!closed) headers.set(STREAM_CURSOR, cursor());
    headers.set("cache-control", NO_STORE);
    return new Response(null, { status: 204, headers });
  };

  const { outcome } = read;
  if (outcome.nextSeqNum > read.fromSeqNum) {
    observeDelivered(outcome.records);
    return data(view(outcome.records, outcome.nextSeqNum, outcome.tail.seqNum, read.closed));
  }
  if (read.closed) return empty(outcome.tail.seqNum, true);
  let tail = outcome.tail.seqNum;
  const waitSecs = longPollTimeoutMs(c.env) / 1000;
  for await (const output of readSession(sessionTarget(c, name), outcome, liveRequest(read.fromSeqNum, waitSecs), c.req.raw.signal, { followClosure: true })) {
    if (output.kind === "heartbeat") {
      tail = output.tail.seqNum;
      continue;
    }
    const { records, closed = false } = output.batch;
    tail = output.batch.tail?.seqNum ?? tail;
    const last = records[records.length - 1];
    if (last) return data(view(records, last.seqNum + 1, Math.max(tail, last.seqNum + 1), closed));
    if (closed) return empty(tail, true);
  }
  return empty(tail, false);
}

/** SSE: the catch-up as data/control pairs, then live appends, keep-alive controls, and the close if any. */
export async function sse(c: DsContext, name: string, start: OffsetStart): Promise<Response> {
  const read = await firstRead(c, name, start, "streaming");
  const headers = new Headers({ "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  if (isSseBase64(read.contentType)) headers.set(STREAM_SSE_DATA_ENCODING, "base64");
  return new Response(sseBody(c, name, read), { status: 200, headers });
}

function sseBody(c: DsContext, name: string, read: GuardedRead): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  const clientCursor = c.req.query(CURSOR_PARAM);
  const deadline = Date.now() + SSE_LIFETIME_MS;
  // A stream closed at the first read never grows: reaching its tail is the end.
  const closedTail = read.closed ? read.outcome.tail.seqNum : undefined;
  let knownTail = read.outcome.tail.seqNum;
  let position = read.fromSeqNum;
  /**
   * The position a catch-up control event just called up to date. The session announces reaching the tail
   * with a heartbeat right after its catch-up; a second control for the same position would repeat the
   * offset (the suite wants control offsets to increase, and one control per catch-up read).
   */
  let announced: number | undefined;
  let session: AsyncGenerator<ReadOutput> | undefined;
  /** Closed or cancelled: a pull that was waiting when that happened must not touch the controller. */
  let finished = false;

  const control = (closed: boolean) => {
    const upToDate = closed || position >= knownTail;
    return renderControlEvent(closed
      ? { streamNextOffset: renderOffset(position), upToDate: true, streamClosed: true }
      : { streamNextOffset: renderOffset(position), streamCursor: nextCursor(Date.now(), clientCursor), ...(upToDate ? { upToDate } : {}) });
  };
  /** One chunk per read: its data event (if it has records) and its control event together. */
  const render = (records: ReadView["records"], closed: boolean) => {
    const last = records[records.length - 1];
    if (last) position = last.seqNum + 1;
    const ended = closed || (closedTail !== undefined && position >= closedTail);
    const controlEvent = encoder.encode(control(ended));
    if (!last) return { chunk: controlEvent, ended };
    const dataEvent = renderOncePerBatch(records, read.contentType, () => encoder.encode(renderDataEvent(renderSsePayload(records, read.contentType))));
    return { chunk: concatBytes([dataEvent, controlEvent]), ended };
  };
  const stop = () => {
    finished = true;
    abort.abort();
    void session?.return(undefined).catch(() => undefined);
  };
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (!finished) controller.close();
    stop();
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (closedTail !== undefined && read.outcome.nextSeqNum >= closedTail) {
        observeDelivered(read.outcome.records);
        controller.enqueue(render(read.outcome.records, true).chunk);
        controller.close();
        return;
      }
      session = readSession(sessionTarget(c, name), read.outcome, liveRequest(read.fromSeqNum, undefined), abort.signal, { followClosure: true, endAtMs: deadline });
    },
    // Loops until it has something to send: a pull that enqueues nothing is not called again.
    async pull(controller) {
      try {
        for (;;) {
          const next = await session?.next();
          if (finished) return;
          if (!next || next.done) return end(controller);
          const output = next.value;
          if (output.kind === "heartbeat") {
            const repeat = announced === output.tail.seqNum;
            announced = undefined;
            if (repeat) continue;
            knownTail = Math.max(knownTail, output.tail.seqNum);
            position = output.tail.seqNum;
            controller.enqueue(encoder.encode(control(false)));
            return;
          }
          if (output.batch.tail) knownTail = Math.max(knownTail, output.batch.tail.seqNum);
          const { chunk, ended } = render(output.batch.records, output.batch.closed ?? false);
          announced = output.batch.tail === undefined && position >= knownTail ? position : undefined;
          controller.enqueue(chunk);
          if (ended) end(controller);
          return;
        }
      } catch (error) {
        // The stream went away mid-session (deleted): the client reconnects and learns why.
        if (!(error instanceof Rejection) && !finished) console.error("durable streams SSE session failed", error);
        end(controller);
      }
    },
    cancel: stop,
  });
}
