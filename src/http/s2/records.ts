/**
 * S2 data-plane routes (S2-API §9–12): append, read, check-tail on `/streams/{stream}/records`. Bodies are
 * JSON (with `s2-format`) or protobuf, chosen per S2-API §1.5; `Content-Type: s2s/proto` opens an S2S read
 * session (GET) or append session (POST, append-session.ts). Check-tail answers JSON only: S2's protobuf schema
 * has no message for it (its OpenAPI lists only application/json). A call on a stream that does not exist may
 * create it when the basin says so (`create_stream_on_append` / `create_stream_on_read`); only that miss
 * reaches the basin's object, the hit path touches this Worker and the stream's object alone.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { checkAppendInput } from "../../domain/append";
import { parseCommand } from "../../domain/commands";
import { principalLapse } from "../auth/authenticate";
import { authorize } from "../auth/authorize";
import { streamError, type StreamError } from "../../domain/errors";
import { capUnaryRequest, checkReadRequest } from "../../domain/read";
import type { AppendInput, ReadRequest } from "../../domain/types";
import { basinStub, streamStub, type Env } from "../../env";
import { err, ok, type Result } from "../../lib/result";
import { parseAppendInput, parseRecordFormat, renderAppendAck, renderPosition, renderReadBatch, type RecordFormat } from "../../protocol/s2/json-records";
import { decodeAppendInput, encodeAppendAck, encodeReadBatch } from "../../protocol/s2/proto";
import { parseReadQuery } from "../../protocol/s2/query";
import { S2S_CONTENT_TYPE } from "../../protocol/s2/s2s";
import { parseLastEventId, type SseProgress } from "../../protocol/s2/sse";
import { negotiateCompression } from "../../protocol/compression";
import { longPollBatch, s2sReadResponse, sseResponse } from "./read-responses";
import { s2sAppendResponse, type SessionAppend } from "./append-session";
import { clientAcceptEncoding } from "../compression";
import type { AutoCreateTrigger } from "../../control/basin-object";
import { appendInputSize, observeAppend } from "../metrics/observe";
import { isolateMetrics } from "../metrics/registry";
import { unwrap } from "../rejection";
import {
  basinOf, firstMediaType, isProtoType, json, readBody, readJsonBody, streamParam, type S2Context,
} from "./request";

const SSE_CONTENT_TYPE = "text/event-stream";
const PROTOBUF_CONTENT_TYPE = "application/protobuf";

export function recordFormat(c: S2Context): Result<RecordFormat, StreamError> {
  const value = c.req.header("s2-format")?.trim();
  if (value === undefined) return ok("raw");
  const format = parseRecordFormat(value);
  return format ? ok(format) : err(streamError("bad_header", `s2-format: unsupported value \`${value}\``));
}

const wantsProto = (c: S2Context) => isProtoType(firstMediaType(c.req.header("accept")));

const protobuf = (bytes: Uint8Array) =>
  new Response(bytes, { headers: { "content-type": PROTOBUF_CONTENT_TYPE, "content-length": String(bytes.length) } });

/** `Content-Type: s2s/proto` asks for a session, even on a GET (S2-API §1.5). */
const wantsS2s = (c: S2Context) => firstMediaType(c.req.header("content-type")) === S2S_CONTENT_TYPE;


/** `Last-Event-ID: s,c,b` restarts after s with the budgets reduced by what was already sent (S2-API §10.4). */
export function resumeRequest(request: ReadRequest, resumed: SseProgress): ReadRequest {
  const limits = { ...request.limits };
  if (limits.count !== undefined) limits.count = Math.max(0, limits.count - resumed.count);
  if (limits.bytes !== undefined) limits.bytes = Math.max(0, limits.bytes - resumed.bytes);
  return { ...request, start: { kind: "seq_num", seqNum: resumed.lastSeqNum + 1 }, limits };
}

async function appendInput(c: S2Context): Promise<Result<AppendInput, StreamError>> {
  if (isProtoType(firstMediaType(c.req.header("content-type")))) {
    const body = unwrap(await readBody(c, "bad_proto"));
    const decoded = decodeAppendInput(body);
    return decoded.ok ? decoded : err(streamError("bad_proto", decoded.error));
  }
  const format = unwrap(recordFormat(c));
  return parseAppendInput(unwrap(await readJsonBody(c, { optional: false })), format);
}

/** Runs a stream call; on `stream_not_found` asks the basin to auto-create the stream, then tries once more. */
export async function withAutoCreate<T>(
  c: S2Context, basin: string, stream: string, trigger: AutoCreateTrigger,
  call: () => Promise<Result<T, StreamError>>,
): Promise<T> {
  const first = await call();
  if (first.ok || first.error.code !== "stream_not_found") return unwrap(first);
  unwrap(await basinStub(c.env, basin).autoCreateStream(basin, stream, trigger));
  return unwrap(await call());
}

/** Fence and trim command records need their own operations besides `append` (S2-API §6.2). */
function authorizeCommands(c: S2Context, input: AppendInput, basin: string, stream: string): void {
  for (const record of input.records) {
    const command = parseCommand(record);
    if (command.ok && command.value) authorize(c, command.value.kind, { basin, stream });
  }
}

/**
 * Starts an append session (S2S or WebSocket) on an authorized stream: the stream must exist, or be created now
 * per `create_stream_on_append`, while an HTTP error can still answer (S2-API §12.1). Each input then gets the
 * unary append's checks and authorization before the stream's append RPC.
 */
export async function openAppendSession(c: S2Context, basin: string, name: string): Promise<SessionAppend> {
  const stub = streamStub(c.env, basin, name);
  await withAutoCreate(c, basin, name, "append", () => stub.checkTail());
  return async (input) => {
    // A session outlives its request's authentication: a token that expires or is revoked meanwhile stops
    // appending with the error a new request would get.
    const lapse = await principalLapse(c.get("principal"), c.env);
    if (lapse) return err(lapse);
    const checked = checkAppendInput(input);
    if (!checked.ok) return checked;
    authorizeCommands(c, checked.value, basin, name);
    return observeAppend("s2", appendInputSize(checked.value), () => stub.append(checked.value));
  };
}

export const recordRoutes = new Hono<AppEnv>()
  .post("/:stream/records", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    authorize(c, "append", { basin, stream: name });
    if (wantsS2s(c)) {
      // No HTTP Content-Encoding in S2S: frames carry their own compression (S2-API §12.1).
      const append = await openAppendSession(c, basin, name);
      const compression = negotiateCompression(clientAcceptEncoding(c.req.raw));
      return s2sAppendResponse(c.req.raw.body, append, compression, (session) => c.executionCtx.waitUntil(session));
    }
    const input = unwrap(checkAppendInput(unwrap(await appendInput(c))));
    authorizeCommands(c, input, basin, name);
    const stub = streamStub(c.env, basin, name);
    const ack = await withAutoCreate(c, basin, name, "append", () => observeAppend("s2", appendInputSize(input), () => stub.append(input)));
    return wantsProto(c) ? protobuf(encodeAppendAck(ack)) : json(renderAppendAck(ack));
  })
  .get("/:stream/records", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    authorize(c, "read", { basin, stream: name });
    const format = unwrap(recordFormat(c));
    const request = unwrap(checkReadRequest(unwrap(parseReadQuery(new URL(c.req.url).searchParams))));
    const stub = streamStub(c.env, basin, name);
    const target = { env: c.env, basin, stream: name, principal: c.get("principal") };
    if (wantsS2s(c)) {
      // No unary caps: budgets span the session, as for SSE; frames are compressed per Accept-Encoding.
      isolateMetrics.readStarted("s2", "streaming");
      const first = await withAutoCreate(c, basin, name, "read", () => stub.read(request, "streaming"));
      return s2sReadResponse(target, first, request, negotiateCompression(clientAcceptEncoding(c.req.raw)));
    }
    if (firstMediaType(c.req.header("accept")) === SSE_CONTENT_TYPE) {
      const lastEventId = c.req.header("last-event-id");
      const resumed = lastEventId === undefined ? undefined : unwrap(parseLastEventId(lastEventId));
      const session = resumed ? resumeRequest(request, resumed) : request;
      isolateMetrics.readStarted("s2", "streaming");
      const first = await withAutoCreate(c, basin, name, "read", () => stub.read(session, "streaming"));
      return sseResponse(target, first, session, format, resumed);
    }
    const unary = capUnaryRequest(request);
    isolateMetrics.readStarted("s2", "unary");
    const first = await withAutoCreate(c, basin, name, "read", () => stub.read(unary));
    const batch = await longPollBatch(target, first, unary, c.req.raw.signal);
    return wantsProto(c) ? protobuf(encodeReadBatch(batch)) : json(renderReadBatch(batch, format));
  })
  .get("/:stream/records/tail", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    authorize(c, "check-tail", { basin, stream: name });
    const stub = streamStub(c.env, basin, name);
    const tail = await withAutoCreate(c, basin, name, "read", () => stub.checkTail());
    return json({ tail: renderPosition(tail) });
  });
