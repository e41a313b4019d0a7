/**
 * S2 read sessions as server-sent events (S2-API §10.4):
 *
 *   event: batch          id: <last seq_num>,<records sent>,<metered bytes sent>     data: ReadBatch JSON
 *   event: ping                                       data: {"timestamp": now ms, "tail": StreamPosition}
 *   event: error                                      data: {"code", "message"}     (then the stream ends)
 *   data: [DONE]                                      normal end
 *
 * The id lets an EventSource resume: `Last-Event-ID: s,c,b` restarts at s + 1 with the budgets reduced by c
 * records and b bytes. Data lines are single-line JSON, so no CR or LF can split an event.
 */
import { streamError, type StreamError } from "../../domain/errors";
import { meteredBytes } from "../../domain/metering";
import type { ReadBatch, SequencedRecord, StreamPosition } from "../../domain/types";
import { err, ok, type Result } from "../../lib/result";
import { renderS2Error } from "./errors";
import { renderPosition, renderReadBatch, type RecordFormat } from "./json-records";

export interface SseProgress {
  lastSeqNum: number;
  /** Records sent so far in the session, including before a resumption. */
  count: number;
  /** Metered bytes sent so far. */
  bytes: number;
}

export const START_PROGRESS: Readonly<SseProgress> = { lastSeqNum: 0, count: 0, bytes: 0 };

/** Counts records just delivered; every transport that offers resumption (SSE, WebSocket) ids its batches so. */
export function advanceProgress(progress: SseProgress, records: readonly SequencedRecord[]): void {
  for (const record of records) {
    progress.lastSeqNum = record.seqNum;
    progress.count += 1;
    progress.bytes += meteredBytes(record);
  }
}

export const renderEventId = (progress: SseProgress) => `${progress.lastSeqNum},${progress.count},${progress.bytes}`;

/** The `data:` JSON of a batch event: the same for every reader of the batch, so callers may share it. */
export const renderSseBatchData = (batch: ReadBatch, format: RecordFormat) => JSON.stringify(renderReadBatch(batch, format));

export const renderSseBatch = (data: string, progress: SseProgress) =>
  `event: batch\nid: ${renderEventId(progress)}\ndata: ${data}\n\n`;

export const renderSsePing = (nowMs: number, tail: StreamPosition) =>
  `event: ping\ndata: ${JSON.stringify({ timestamp: nowMs, tail: renderPosition(tail) })}\n\n`;

export const renderSseError = (error: StreamError) => `event: error\ndata: ${renderS2Error(error).body}\n\n`;

export const SSE_DONE = "data: [DONE]\n\n";

const LAST_EVENT_ID = /^(\d+),(\d+),(\d+)$/;

export function parseLastEventId(value: string): Result<SseProgress, StreamError> {
  const match = LAST_EVENT_ID.exec(value.trim());
  const numbers = match?.slice(1).map(Number);
  if (!numbers || numbers.some((n) => !Number.isSafeInteger(n))) {
    return err(streamError("bad_header", "Last-Event-ID: expected `seq_num,count,bytes`"));
  }
  return ok({ lastSeqNum: numbers[0]!, count: numbers[1]!, bytes: numbers[2]! });
}
