/**
 * Renders a read session as the S2 client asked: SSE events (S2-API §10.4), S2S frames (S2-API §12.4), or
 * one unary batch that long-polls for the first new append when the read waits (S2-API §10.3).
 */
import { streamError, type StreamError } from "../../domain/errors";
import type { ReadBatch, ReadOutput, ReadRequest } from "../../domain/types";
import type { ReadOutcome } from "../../stream/stream-object";
import { renderOncePerBatch } from "../batch-renders";
import { readSession, type SessionTarget } from "../read-session";
import {
  advanceProgress, renderSseBatch, renderSseBatchData, renderSseError, renderSsePing, SSE_DONE, START_PROGRESS, type SseProgress,
} from "../../protocol/s2/sse";
import type { Compression } from "../../protocol/compression";
import type { RecordFormat } from "../../protocol/s2/json-records";
import { renderErrorFrame, renderReadFrame, S2S_CONTENT_TYPE } from "../../protocol/s2/s2s";
import { Rejection } from "../rejection";
import { observeDelivered } from "../metrics/observe";

/** Proxies must neither buffer nor transform a live stream (s2-lite sets the same). */
export const STREAMING_HEADERS = { "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" } as const;

/** What a session that failed mid-way tells its reader: an expected error as is, anything else as `other`. */
export function sessionFailure(error: unknown): StreamError {
  if (error instanceof Rejection) return error.error;
  console.error("read session failed", error);
  return streamError("other", "read session failed");
}

/**
 * How one wire protocol renders a session into bytes. `end` marks a normal end where the protocol has a
 * marker (SSE's `[DONE]`; S2S just ends the body); `error` is the last thing sent after a failure.
 */
interface SessionRenderer {
  output(output: ReadOutput): Uint8Array;
  error(error: StreamError): Uint8Array;
  end?: Uint8Array;
}

/**
 * A read session as a byte stream, pulled one output at a time so a slow reader holds back the session
 * rather than piling up batches in the Worker. Cancelling the body (the client went away) ends the session.
 */
function sessionBody(
  target: SessionTarget, first: ReadOutcome, request: ReadRequest, render: SessionRenderer,
): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  const session = readSession(target, first, request, abort.signal);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await session.next();
        // The client left while the session was waiting: nothing more may be enqueued.
        if (abort.signal.aborted) return;
        if (next.done) {
          if (render.end) controller.enqueue(render.end);
          controller.close();
          return;
        }
        controller.enqueue(render.output(next.value));
      } catch (error) {
        if (abort.signal.aborted) return;
        controller.enqueue(render.error(sessionFailure(error)));
        controller.close();
      }
    },
    async cancel() {
      abort.abort();
      await session.return(undefined);
    },
  });
}

export function sseResponse(
  target: SessionTarget, first: ReadOutcome, request: ReadRequest, format: RecordFormat, resumed: SseProgress | undefined,
): Response {
  const encoder = new TextEncoder();
  const progress: SseProgress = { ...(resumed ?? START_PROGRESS) };
  const body = sessionBody(target, first, request, {
    output(output) {
      if (output.kind === "heartbeat") return encoder.encode(renderSsePing(Date.now(), output.tail));
      advanceProgress(progress, output.batch.records);
      return encoder.encode(renderSseBatch(sharedBatchData(output.batch, format), progress));
    },
    error: (failure) => encoder.encode(renderSseError(failure)),
    end: encoder.encode(SSE_DONE),
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", ...STREAMING_HEADERS } });
}

/** The batch's JSON, once per batch, format and tail however many readers it reaches (batch-renders.ts). */
const sharedBatchData = (batch: ReadBatch, format: RecordFormat): string =>
  renderOncePerBatch(batch.records, `${format}:${batch.tail ? `${batch.tail.seqNum}:${batch.tail.timestamp}` : "-"}`, () => renderSseBatchData(batch, format));

/**
 * An S2S read session (S2-API §12.4): ReadBatch frames, heartbeats as empty batches with a tail, a terminal
 * frame on failure, and simply the end of the body on a normal end. Each frame is compressed as negotiated.
 */
export function s2sReadResponse(target: SessionTarget, first: ReadOutcome, request: ReadRequest, compression: Compression): Response {
  const body = sessionBody(target, first, request, {
    output: (output) => renderReadFrame(output, compression),
    error: renderErrorFrame,
  });
  return new Response(body, { headers: { "content-type": S2S_CONTENT_TYPE, ...STREAMING_HEADERS } });
}

/** A unary read: what catch-up found, or else the first live batch within `wait`, or else nothing. */
export async function longPollBatch(target: SessionTarget, first: ReadOutcome, request: ReadRequest, signal: AbortSignal): Promise<ReadBatch> {
  if (first.records.length > 0 || (request.waitSecs ?? 0) === 0) {
    observeDelivered(first.records);
    return { records: first.records };
  }
  for await (const output of readSession(target, first, request, signal)) {
    if (output.kind === "batch") return output.batch;
  }
  return { records: [] };
}
