/**
 * Renders a read session as the S2 client asked: SSE events (S2-API §10.4), or one unary batch that
 * long-polls for the first new append when the read waits (S2-API §10.3).
 */
import { streamError } from "../../domain/errors";
import { meteredBytes } from "../../domain/metering";
import type { ReadBatch, ReadRequest } from "../../domain/types";
import type { ReadOutcome } from "../../stream/stream-object";
import { readSession, type SessionTarget } from "../read-session";
import { renderSseBatch, renderSseError, renderSsePing, SSE_DONE, type SseProgress } from "../../protocol/s2/sse";
import type { RecordFormat } from "../../protocol/s2/json-records";
import { Rejection } from "./request";

/** Proxies must neither buffer nor transform a live stream (s2-lite sets the same). */
export const STREAMING_HEADERS = { "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" } as const;

export function sseResponse(
  target: SessionTarget, first: ReadOutcome, request: ReadRequest, format: RecordFormat, resumed: SseProgress | undefined,
): Response {
  const abort = new AbortController();
  const session = readSession(target, first, request, abort.signal);
  const encoder = new TextEncoder();
  const progress: SseProgress = resumed ?? { lastSeqNum: 0, count: 0, bytes: 0 };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await session.next();
        if (next.done) {
          controller.enqueue(encoder.encode(SSE_DONE));
          controller.close();
          return;
        }
        const output = next.value;
        if (output.kind === "heartbeat") {
          controller.enqueue(encoder.encode(renderSsePing(Date.now(), output.tail)));
          return;
        }
        for (const record of output.batch.records) {
          progress.lastSeqNum = record.seqNum;
          progress.count += 1;
          progress.bytes += meteredBytes(record);
        }
        controller.enqueue(encoder.encode(renderSseBatch(output.batch, format, progress)));
      } catch (error) {
        const failure = error instanceof Rejection ? error.error : streamError("other", "read session failed");
        if (!(error instanceof Rejection)) console.error("read session failed", error);
        controller.enqueue(encoder.encode(renderSseError(failure)));
        controller.close();
      }
    },
    async cancel() {
      abort.abort();
      await session.return(undefined);
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", ...STREAMING_HEADERS } });
}

/** A unary read: what catch-up found, or else the first live batch within `wait`, or else nothing. */
export async function longPollBatch(target: SessionTarget, first: ReadOutcome, request: ReadRequest, signal: AbortSignal): Promise<ReadBatch> {
  if (first.records.length > 0 || (request.waitSecs ?? 0) === 0) return { records: first.records };
  for await (const output of readSession(target, first, request, signal)) {
    if (output.kind === "batch") return output.batch;
  }
  return { records: [] };
}
