/**
 * The Durable Streams protocol under `/v1/stream/{name}` (PROTOCOL.md §5): PUT create/fork, POST
 * append/close, GET catch-up/long-poll/SSE, HEAD, DELETE, and OPTIONS preflights (answered in app.ts before
 * authentication, since browsers send preflights without credentials). Every response, errors included,
 * carries the protocol's security and CORS headers; every failure renders through renderDsError.
 */
import { Hono } from "hono";
import { streamError } from "../../domain/errors";
import { CONTROL_SEGMENT, LIVE_LONG_POLL, LIVE_PARAM, LIVE_SSE, PREFLIGHT_HEADERS } from "../../protocol/ds/headers";
import { parseOffsetParam } from "../../protocol/ds/offset";
import type { AppEnv } from "../context";
import { Rejection, unwrap } from "../rejection";
import { catchUp, head } from "./read";
import { longPoll, sse } from "./live";
import { authorizeOn, dsErrorResponse, dsOnError, streamNameOf, type DsContext } from "./request";
import { withResponseHeaders } from "./responses";
import { subscriptionRoutes } from "./subscriptions";
import { appendToStream, createStream, deleteStream } from "./write";

async function read(c: DsContext): Promise<Response> {
  const name = unwrap(streamNameOf(c));
  authorizeOn(c, "read", name);
  if (c.req.raw.method === "HEAD") return head(c, name);
  const params = new URL(c.req.url).searchParams;
  const start = unwrap(parseOffsetParam(params));
  const live = params.get(LIVE_PARAM);
  if (live === null) return catchUp(c, name, start ?? { kind: "start" });
  if (live !== LIVE_LONG_POLL && live !== LIVE_SSE) throw new Rejection(streamError("bad_query", `live: expected ${LIVE_LONG_POLL} or ${LIVE_SSE}`));
  // A live read resumes from a position the client holds; there is no default (PROTOCOL.md §5.7, §5.8).
  if (start === undefined) throw new Rejection(streamError("bad_query", "live reads need an offset"));
  return live === LIVE_SSE ? sse(c, name, start) : longPoll(c, name, start);
}

export const dsRoutes = new Hono<AppEnv>()
  .use("*", withResponseHeaders)
  // Reserved for the control APIs (subscriptions, PROTOCOL.md §6); never a stream name.
  .route(`/${CONTROL_SEGMENT}`, subscriptionRoutes)
  .all(`/${CONTROL_SEGMENT}/*`, () => dsErrorResponse(streamError("stream_not_found", "no such control API")))
  .put("/*", createStream)
  .post("/*", appendToStream)
  .get("/*", read)
  .delete("/*", deleteStream)
  .all("/*", () => new Response(null, { status: 405, headers: { allow: PREFLIGHT_HEADERS["Access-Control-Allow-Methods"]! } }))
  .onError(dsOnError);
