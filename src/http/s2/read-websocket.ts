/**
 * S2 read sessions over a WebSocket, for browsers and other clients that prefer one to SSE:
 * `GET /v1/streams/{stream}/records` with `Upgrade: websocket`, the same query as an SSE read (S2-API §10.1).
 * Browsers cannot set headers on a WebSocket, so each header this route reads has a query twin; the header
 * wins when both are given:
 *
 *   s2-basin        basin=<name>
 *   s2-format       format=raw|json|base64|json-binsafe
 *   Last-Event-ID   last_event_id=<seq_num>,<count>,<bytes>    (an id from an earlier batch message: resume)
 *
 * Server → client text messages, one JSON object each (the client sends nothing; anything it sends is ignored):
 *
 *   {"type":"batch","id":"<last seq_num>,<count>,<bytes>","batch":<ReadBatch JSON, as SSE's data>}
 *   {"type":"ping","timestamp":<server now ms>,"tail":{"seq_num","timestamp"}}
 *   {"type":"error","error":<S2 error body>}   then close 4000 + HTTP status (1011 for an internal failure)
 *   {"type":"done"}                            then close 1000
 *
 * Message order, budgets, heartbeats and the `id` follow SSE (S2-API §10.4–10.5): both render the one read
 * session (read-session.ts). To resume, reconnect with `last_event_id=<id>` (budgets shrink by what was
 * delivered) or with `seq_num=<last seq_num + 1>`. Failures before the session starts (bad query, 404, 416)
 * are plain HTTP error responses and no upgrade happens.
 *
 * Authentication is the `/v1` middleware's, from the `Authorization` header, which a browser's WebSocket
 * cannot send either: until it also accepts a token in the query, browsers need the anonymous read grant.
 *
 * The Worker, not the StreamObject, accepts this socket (a plain `accept()`, no hibernation): the Worker is
 * stateless and billed for CPU only, and the object stays asleep behind its own hibernatable follower socket.
 */
import { Hono, type Next } from "hono";
import { streamError, type StreamError } from "../../domain/errors";
import { checkBasinName } from "../../domain/names";
import { checkReadRequest } from "../../domain/read";
import type { ReadOutput, StreamPosition } from "../../domain/types";
import { streamStub } from "../../env";
import { err, ok, type Result } from "../../lib/result";
import { parseRecordFormat, renderPosition, renderReadBatch, type RecordFormat } from "../../protocol/s2/json-records";
import { renderS2Error } from "../../protocol/s2/errors";
import { parseReadQuery } from "../../protocol/s2/query";
import { advanceProgress, parseLastEventId, renderEventId, START_PROGRESS, type SseProgress } from "../../protocol/s2/sse";
import { authorize } from "../auth/authorize";
import type { AppEnv } from "../context";
import { readSession } from "../read-session";
import { isolateMetrics } from "../metrics/registry";
import { sessionFailure } from "./read-responses";
import { recordFormat, resumeRequest, withAutoCreate } from "./records";
import { basinOf, streamParam, type S2Context } from "./request";
import { Rejection, unwrap } from "../rejection";

/** RFC 6455 §7.4.1: normal closure, and "an unexpected condition prevented the server from fulfilling the request". */
const CLOSE_NORMAL = 1000;
const CLOSE_INTERNAL_ERROR = 1011;
/** 4000–4999 are private-use close codes; 4000 + the HTTP status the same error would have on a unary call. */
const CLOSE_STATUS_BASE = 4000;

/**
 * A slow client must not make the Worker buffer a whole catch-up (a Worker has 128 MB): above this many
 * queued bytes the relay pauses before reading more. One read batch is at most 1 MiB of records. workerd
 * does not implement `bufferedAmount` yet (workerd#988), so today this guard never engages.
 */
const BUFFERED_BYTES_MAX = 4 * 1024 * 1024;
const DRAIN_POLL_MS = 20;

export const isUpgrade = (c: S2Context) => c.req.header("upgrade")?.trim().toLowerCase() === "websocket";

/** The header, else its query twin: a browser's WebSocket cannot send headers. */
export function basinOfUpgrade(c: S2Context, query: URLSearchParams): Result<string, StreamError> {
  const basin = query.get("basin");
  if (c.req.header("s2-basin") !== undefined || basin === null) return basinOf(c);
  const problem = checkBasinName(basin);
  return problem ? err(streamError("bad_query", `basin: ${problem}`)) : ok(basin);
}

export function formatOfUpgrade(c: S2Context, query: URLSearchParams): Result<RecordFormat, StreamError> {
  const format = query.get("format");
  if (c.req.header("s2-format") !== undefined || format === null) return recordFormat(c);
  const parsed = parseRecordFormat(format);
  return parsed ? ok(parsed) : err(streamError("bad_query", `format: unsupported value \`${format}\``));
}

function resumedFrom(c: S2Context, query: URLSearchParams): Result<SseProgress | undefined, StreamError> {
  const header = c.req.header("last-event-id");
  if (header !== undefined) return parseLastEventId(header);
  const value = query.get("last_event_id");
  if (value === null) return ok(undefined);
  const parsed = parseLastEventId(value);
  return parsed.ok ? parsed : err(streamError("bad_query", "last_event_id: expected `seq_num,count,bytes`"));
}

async function upgradeRead(c: S2Context, next: Next): Promise<Response | void> {
  if (!isUpgrade(c)) return next();
  const query = new URL(c.req.url).searchParams;
  const basin = unwrap(basinOfUpgrade(c, query));
  const name = unwrap(streamParam(c));
  authorize(c, "read", { basin, stream: name });
  const format = unwrap(formatOfUpgrade(c, query));
  const request = unwrap(checkReadRequest(unwrap(parseReadQuery(query))));
  const resumed = unwrap(resumedFrom(c, query));
  const session = resumed ? resumeRequest(request, resumed) : request;
  // The first read decides 404 / 416 while an HTTP answer is still possible.
  const stub = streamStub(c.env, basin, name);
  isolateMetrics.readStarted("s2", "streaming");
  const first = await withAutoCreate(c, basin, name, "read", () => stub.read(session, "streaming"));

  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const abort = new AbortController();
  const stop = () => abort.abort();
  server.addEventListener("close", stop);
  server.addEventListener("error", stop);
  const outputs = readSession({ env: c.env, basin, stream: name, principal: c.get("principal") }, first, session, abort.signal);
  void relay(server, outputs, format, { ...(resumed ?? START_PROGRESS) }, abort.signal);
  return new Response(null, { status: 101, webSocket: client });
}

/** Sends the session's outputs until it ends, fails, or the client goes away. Never throws. */
async function relay(
  socket: WebSocket, outputs: AsyncGenerator<ReadOutput>, format: RecordFormat, progress: SseProgress, signal: AbortSignal,
): Promise<void> {
  try {
    for (;;) {
      const next = await outputs.next();
      if (signal.aborted) return;
      if (next.done) {
        send(socket, { type: "done" });
        closeQuietly(socket, CLOSE_NORMAL, "done");
        return;
      }
      const output = next.value;
      if (output.kind === "heartbeat") {
        send(socket, renderPing(output.tail));
        continue;
      }
      advanceProgress(progress, output.batch.records);
      send(socket, { type: "batch", id: renderEventId(progress), batch: renderReadBatch(output.batch, format) });
      await drained(socket, signal);
    }
  } catch (error) {
    if (signal.aborted) return;
    const failure = sessionFailure(error);
    const { status, body } = renderS2Error(failure);
    send(socket, { type: "error", error: JSON.parse(body) });
    closeQuietly(socket, error instanceof Rejection ? CLOSE_STATUS_BASE + status : CLOSE_INTERNAL_ERROR, failure.code);
  } finally {
    // Ends a live subscription still open (the client left mid-session), releasing the object's socket.
    await outputs.return(undefined).catch(() => undefined);
  }
}

const renderPing = (tail: StreamPosition) => ({ type: "ping", timestamp: Date.now(), tail: renderPosition(tail) });

function send(socket: WebSocket, message: object): void {
  try {
    socket.send(JSON.stringify(message));
  } catch {
    // The client closed while we rendered; its close event aborts the session.
  }
}

function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // Already closed by the client.
  }
}

/** Waits while the client is slow to take what was sent (runtimes without `bufferedAmount` never wait). */
async function drained(socket: WebSocket, signal: AbortSignal): Promise<void> {
  while ((socket.bufferedAmount ?? 0) > BUFFERED_BYTES_MAX && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}

/** Mounted before the record routes: answers upgrades, passes every other request on. */
export const readWebSocketRoutes = new Hono<AppEnv>().get("/:stream/records", upgradeRead);
