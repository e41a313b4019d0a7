/**
 * Headers of Durable Streams responses: those that carry a stream's position (PROTOCOL.md §5.5–5.7), built
 * in one place so catch-up, long-poll and HEAD agree, and those every response carries.
 */
import type { MiddlewareHandler } from "hono";
import type { SequencedRecord } from "../../domain/types";
import { renderReadBody } from "../../protocol/ds/body";
import { renderEtag } from "../../protocol/ds/caching";
import {
  PREFLIGHT_HEADERS, RESPONSE_HEADERS, STREAM_CLOSED, STREAM_NEXT_OFFSET, STREAM_UP_TO_DATE,
} from "../../protocol/ds/headers";
import { renderOffset } from "../../protocol/ds/offset";

/** One read as a response describes it. */
export interface ReadView {
  contentType: string;
  incarnation: string;
  fromSeqNum: number;
  records: SequencedRecord[];
  nextSeqNum: number;
  /** The tail when the read was made. */
  tailSeqNum: number;
  /** The stream is closed (at `tailSeqNum`, its final tail). */
  closed: boolean;
}

export const reachedTail = (view: ReadView): boolean => view.nextSeqNum >= view.tailSeqNum;

/**
 * Up-to-date iff the read reached the tail; closed iff it also reached a closed stream's end (never on a
 * partial read of a closed stream: PROTOCOL.md §5.6). `etag`: false for `offset=now`, whose tail moves.
 */
export function readHeaders(view: ReadView, etag: boolean): Headers {
  const headers = new Headers({ "content-type": view.contentType, [STREAM_NEXT_OFFSET]: renderOffset(view.nextSeqNum) });
  const atEnd = reachedTail(view);
  if (atEnd) headers.set(STREAM_UP_TO_DATE, "true");
  if (atEnd && view.closed) headers.set(STREAM_CLOSED, "true");
  if (etag) headers.set("etag", renderEtag(view.incarnation, view.fromSeqNum, view.nextSeqNum, atEnd && view.closed));
  return headers;
}

export const viewBody = (view: ReadView): Uint8Array => renderReadBody(view.records, view.contentType);

/** A response with no body whose position headers say where the stream stands (long-poll 204, close). */
export function positionHeaders(tailSeqNum: number, closed: boolean): Headers {
  const headers = new Headers({ [STREAM_NEXT_OFFSET]: renderOffset(tailSeqNum), [STREAM_UP_TO_DATE]: "true" });
  if (closed) headers.set(STREAM_CLOSED, "true");
  return headers;
}

/** Adds the headers every Durable Streams response carries (PROTOCOL.md §12.7). */
export const withResponseHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  // Responses from the cache or the runtime can have immutable headers: re-wrap before adding ours.
  const response = new Response(c.res.body, c.res);
  for (const [name, value] of Object.entries(RESPONSE_HEADERS)) response.headers.set(name, value);
  c.res = undefined;
  c.res = response;
};

/** CORS preflight: no body, every method and header a client may use. */
export function preflight(): Response {
  return new Response(null, { status: 204, headers: { ...RESPONSE_HEADERS, ...PREFLIGHT_HEADERS } });
}
