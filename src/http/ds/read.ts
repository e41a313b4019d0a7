/**
 * GET (catch-up) and HEAD of a Durable Streams stream (PROTOCOL.md §5.5, §5.6). Catch-up reads of history
 * (an explicit offset, not reaching the tail) are immutable, so they are shared through the edge cache
 * (edge-cache.ts); everything else reaches the stream's object, which also moves a sliding TTL (HEAD does not).
 */
import { catchUpCacheControl, etagMatches, isShareable, NO_STORE } from "../../protocol/ds/caching";
import { STREAM_CLOSED, STREAM_EXPIRES_AT, STREAM_NEXT_OFFSET, STREAM_TTL } from "../../protocol/ds/headers";
import { renderOffset, startSeqNum, type OffsetStart } from "../../protocol/ds/offset";
import { unwrap } from "../rejection";
import { CACHE_STATUS, cacheRead, cachedRead, rememberIncarnation } from "./edge-cache";
import { dsStub, type DsContext } from "./request";
import { reachedTail, readHeaders, viewBody, type ReadView } from "./responses";
import { observeDelivered } from "../metrics/observe";
import { isolateMetrics } from "../metrics/registry";

export async function head(c: DsContext, name: string): Promise<Response> {
  const stream = unwrap(await dsStub(c.env, name).describe());
  rememberIncarnation(name, stream.incarnation);
  const headers = new Headers({
    "content-type": stream.contentType, [STREAM_NEXT_OFFSET]: renderOffset(stream.tail.seqNum), "cache-control": NO_STORE,
  });
  if (stream.closed) headers.set(STREAM_CLOSED, "true");
  if (stream.ttlSecs !== null) headers.set(STREAM_TTL, String(stream.ttlSecs));
  if (stream.expiresAtText !== null) headers.set(STREAM_EXPIRES_AT, stream.expiresAtText);
  return new Response(null, { status: 200, headers });
}

export async function catchUp(c: DsContext, name: string, start: OffsetStart): Promise<Response> {
  const ifNoneMatch = c.req.header("if-none-match") ?? null;
  // Only explicit offsets name fixed history: `-1` moves with trimming, `now` with every append.
  const historical = start.kind === "seq_num";
  isolateMetrics.readStarted("ds", "unary");
  const hit = historical ? await cachedRead(name, c.req.url) : undefined;
  if (hit) return conditional(hit, ifNoneMatch);

  const read = unwrap(await dsStub(c.env, name).readGuarded({ fromSeqNum: startSeqNum(start) ?? null, touch: true }));
  rememberIncarnation(name, read.incarnation);
  observeDelivered(read.outcome.records);
  const view: ReadView = {
    contentType: read.contentType, incarnation: read.incarnation, fromSeqNum: read.fromSeqNum, records: read.outcome.records,
    nextSeqNum: read.outcome.nextSeqNum, tailSeqNum: read.outcome.tail.seqNum, closed: read.closed,
  };
  const atTail = start.kind === "tail";
  const headers = readHeaders(view, !atTail);
  const cacheControl = atTail ? NO_STORE : catchUpCacheControl(reachedTail(view), read.expiresAtMs, Date.now());
  headers.set("cache-control", cacheControl);
  const body = viewBody(view);
  if (historical && isShareable(cacheControl)) {
    cacheRead(c.executionCtx, c.req.url, read.incarnation, body, headers);
    headers.set(CACHE_STATUS, "MISS");
  }
  return conditional(new Response(body, { status: 200, headers }), ifNoneMatch);
}

/** `If-None-Match` naming the response's own ETag: 304 with the same headers and no body. */
function conditional(response: Response, ifNoneMatch: string | null): Response {
  const etag = response.headers.get("etag");
  if (etag === null || !etagMatches(ifNoneMatch, etag)) return response;
  return new Response(null, { status: 304, headers: response.headers });
}
