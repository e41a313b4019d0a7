/**
 * PUT (create, fork), POST (append, close) and DELETE of a Durable Streams stream (PROTOCOL.md §4.2,
 * §5.1–5.4). The handlers parse and render; every rule that needs the stream's state runs in its object
 * (stream/guarded-stream.ts), in the order PROTOCOL.md §5.2 gives.
 */
import { streamError } from "../../domain/errors";
import { isJsonType, type AppendPayload } from "../../domain/lifecycle";
import { basinStub, subscriptionsStub } from "../../env";
import { PRODUCER_EPOCH, PRODUCER_SEQ, STREAM_CLOSED, STREAM_NEXT_OFFSET } from "../../protocol/ds/headers";
import { parseJsonMessages } from "../../protocol/ds/json";
import { renderOffset } from "../../protocol/ds/offset";
import { parseAppendHeaders, parseCreateHeaders } from "../../protocol/ds/requests";
import { Rejection, unwrap } from "../rejection";
import { readBody } from "../s2/request";
import { forgetIncarnation } from "./edge-cache";
import { authorizeOn, dsBasin, dsStub, newStreamConfig, streamNameOf, type DsContext } from "./request";
import { subscriptionsEnabled } from "./subscriptions";
import { observeGuardedAppend } from "../metrics/observe";

/** A body as records: raw bytes, and its JSON messages when the request may be in JSON mode. */
function payloadOf(bytes: Uint8Array, contentType: string | null): AppendPayload {
  const mayBeJson = bytes.length > 0 && (contentType === null || isJsonType(contentType));
  return mayBeJson ? { bytes, messages: parseJsonMessages(bytes) } : { bytes };
}

export async function createStream(c: DsContext): Promise<Response> {
  const name = unwrap(streamNameOf(c));
  const spec = unwrap(parseCreateHeaders(c.req.raw.headers));
  authorizeOn(c, "create-stream", name);
  if (spec.fork) authorizeOn(c, "read", spec.fork.source);
  const bytes = unwrap(await readBody(c, "too_large"));
  const config = unwrap(await newStreamConfig(c.env));
  const basin = dsBasin(c.env);
  const init = { basin, stream: name, config, createdAtMs: Date.now() };
  const created = unwrap(await dsStub(c.env, name).createGuarded({ init, spec, payload: payloadOf(bytes, spec.contentType) }));
  if (created.created) forgetIncarnation(name);
  // Listed for S2 on every success, so a create whose listing step failed heals on its retry; pattern
  // subscriptions link a new stream before its first records (PROTOCOL.md §6.2). Both at once: the stream's
  // sliding TTL has been running since it was created.
  await Promise.all([
    basinStub(c.env, basin).adoptStream(name, init.createdAtMs),
    created.created && subscriptionsEnabled(c.env) ? subscriptionsStub(c.env, basin).streamCreated(basin, name, created.tail.seqNum) : undefined,
  ]);
  const headers = new Headers({ "content-type": created.contentType, [STREAM_NEXT_OFFSET]: renderOffset(created.tail.seqNum) });
  if (created.closed) headers.set(STREAM_CLOSED, "true");
  if (created.created) headers.set("location", new URL(c.req.url).href.split("?")[0]!);
  return new Response(null, { status: created.created ? 201 : 200, headers });
}

export async function appendToStream(c: DsContext): Promise<Response> {
  const name = unwrap(streamNameOf(c));
  const request = unwrap(parseAppendHeaders(c.req.raw.headers));
  authorizeOn(c, "append", name);
  const bytes = unwrap(await readBody(c, "too_large"));
  if (bytes.length === 0 && !request.close) throw new Rejection(streamError("invalid", "an append needs a body (or Stream-Closed: true)"));
  if (bytes.length > 0 && request.contentType === null) throw new Rejection(streamError("bad_header", "an append needs a Content-Type"));
  const payload = payloadOf(bytes, request.contentType);
  const sentMs = Date.now();
  const ack = unwrap(await dsStub(c.env, name).appendGuarded({
    ...request,
    // A close without a body ignores its Content-Type entirely (PROTOCOL.md §5.3).
    contentType: bytes.length === 0 ? null : request.contentType,
    payload,
  }));
  if (!ack.duplicate) observeGuardedAppend(payload, Date.now() - sentMs);
  const headers = new Headers({ [STREAM_NEXT_OFFSET]: renderOffset(ack.tail.seqNum) });
  if (ack.closed) headers.set(STREAM_CLOSED, "true");
  if (request.producer && ack.producer) {
    headers.set(PRODUCER_EPOCH, String(ack.producer.epoch));
    headers.set(PRODUCER_SEQ, String(ack.producer.lastSeq));
  }
  // 200 only for a producer's newly accepted data; duplicates, plain appends and closes are 204 (§5.2.1).
  const status = request.producer && !ack.duplicate && bytes.length > 0 ? 200 : 204;
  return new Response(null, { status, headers });
}

export async function deleteStream(c: DsContext): Promise<Response> {
  const name = unwrap(streamNameOf(c));
  authorizeOn(c, "delete-stream", name);
  unwrap(await dsStub(c.env, name).deleteGuarded());
  forgetIncarnation(name);
  return new Response(null, { status: 204 });
}
