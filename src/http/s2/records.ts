/**
 * S2 data-plane routes (S2-API §9–11): append, read, check-tail on `/streams/{stream}/records`. Bodies are
 * JSON (with `s2-format`) or protobuf, chosen per S2-API §1.5. A call on a stream that does not exist may
 * create it when the basin says so (`create_stream_on_append` / `create_stream_on_read`); only that miss
 * reaches the basin's object, the hit path touches this Worker and the stream's object alone.
 */
import { Hono } from "hono";
import { checkAppendInput } from "../../domain/append";
import { streamError, type StreamError } from "../../domain/errors";
import { capUnaryRequest, checkReadRequest } from "../../domain/read";
import type { AppendInput, ReadRequest } from "../../domain/types";
import { basinStub, streamStub, type Env } from "../../env";
import { err, ok, type Result } from "../../lib/result";
import { RECORD_FORMATS, parseAppendInput, renderAppendAck, renderPosition, renderReadBatch, type RecordFormat } from "../../protocol/s2/json-records";
import { decodeAppendInput, encodeAppendAck, encodeReadBatch } from "../../protocol/s2/proto";
import { parseReadQuery } from "../../protocol/s2/query";
import { parseLastEventId, type SseProgress } from "../../protocol/s2/sse";
import { longPollBatch, sseResponse } from "./read-responses";
import type { AutoCreateTrigger } from "../../control/basin-object";
import {
  basinOf, firstMediaType, isProtoType, json, readBody, readJsonBody, streamParam, unwrap, type S2Context,
} from "./request";

const S2S_CONTENT_TYPE = "s2s/proto";
const SSE_CONTENT_TYPE = "text/event-stream";
const PROTOBUF_CONTENT_TYPE = "application/protobuf";

function recordFormat(c: S2Context): Result<RecordFormat, StreamError> {
  const value = c.req.header("s2-format")?.trim();
  if (value === undefined) return ok("raw");
  const format = RECORD_FORMATS[value];
  return format ? ok(format) : err(streamError("bad_header", `s2-format: unsupported value \`${value}\``));
}

const wantsProto = (c: S2Context) => isProtoType(firstMediaType(c.req.header("accept")));

const protobuf = (bytes: Uint8Array) =>
  new Response(bytes, { headers: { "content-type": PROTOBUF_CONTENT_TYPE } });

function refuseSessions(c: S2Context): void {
  if (firstMediaType(c.req.header("content-type")) === S2S_CONTENT_TYPE) {
    unwrap(err(streamError("not_implemented", "S2S sessions are not served yet; use unary calls or SSE")));
  }
}

/** `Last-Event-ID: s,c,b` restarts after s with the budgets reduced by what was already sent (S2-API §10.4). */
function resumeRequest(request: ReadRequest, resumed: SseProgress): ReadRequest {
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
async function withAutoCreate<T>(
  c: S2Context, basin: string, stream: string, trigger: AutoCreateTrigger,
  call: () => Promise<Result<T, StreamError>>,
): Promise<T> {
  const first = await call();
  if (first.ok || first.error.code !== "stream_not_found") return unwrap(first);
  unwrap(await basinStub(c.env, basin).autoCreateStream(basin, stream, trigger));
  return unwrap(await call());
}

export const recordRoutes = new Hono<{ Bindings: Env }>()
  .post("/:stream/records", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    refuseSessions(c);
    const input = unwrap(checkAppendInput(unwrap(await appendInput(c))));
    const stub = streamStub(c.env, basin, name);
    const ack = await withAutoCreate(c, basin, name, "append", () => stub.append(input));
    return wantsProto(c) ? protobuf(encodeAppendAck(ack)) : json(renderAppendAck(ack));
  })
  .get("/:stream/records", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    refuseSessions(c);
    const format = unwrap(recordFormat(c));
    const request = unwrap(checkReadRequest(unwrap(parseReadQuery(new URL(c.req.url).searchParams))));
    const stub = streamStub(c.env, basin, name);
    const target = { env: c.env, basin, stream: name };
    if (firstMediaType(c.req.header("accept")) === SSE_CONTENT_TYPE) {
      const lastEventId = c.req.header("last-event-id");
      const resumed = lastEventId === undefined ? undefined : unwrap(parseLastEventId(lastEventId));
      const session = resumed ? resumeRequest(request, resumed) : request;
      const first = await withAutoCreate(c, basin, name, "read", () => stub.read(session));
      return sseResponse(target, first, session, format, resumed);
    }
    const unary = capUnaryRequest(request);
    const first = await withAutoCreate(c, basin, name, "read", () => stub.read(unary));
    const batch = await longPollBatch(target, first, unary, c.req.raw.signal);
    return wantsProto(c) ? protobuf(encodeReadBatch(batch)) : json(renderReadBatch(batch, format));
  })
  .get("/:stream/records/tail", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    const stub = streamStub(c.env, basin, name);
    const tail = await withAutoCreate(c, basin, name, "read", () => stub.checkTail());
    return json({ tail: renderPosition(tail) });
  });
