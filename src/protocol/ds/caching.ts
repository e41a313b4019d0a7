/**
 * HTTP caching of Durable Streams reads (PROTOCOL.md §5.6, §10). Data at an offset never changes, so a
 * catch-up response that stops before the tail is immutable for the life of the stream: caches may keep it,
 * but never past the stream's own expiry. A response that reaches the tail changes with the next append and
 * must be revalidated; `offset=now`, HEAD, long-poll timeouts and errors are never stored.
 *
 * ETags name the stream's incarnation (so a re-created stream never matches), the range, and closure:
 *   "<incarnation>:<start offset>:<next offset>[:c]"
 */
import { renderOffset } from "./offset";

/** Immutable responses are cached this long at most, and the edge may serve them stale while refreshing. */
const IMMUTABLE_MAX_AGE_SECS = 60;
const STALE_WHILE_REVALIDATE_SECS = 300;
/** Long-poll answers with data may be shared briefly: each poll cycle has its own cursor, so its own URL. */
const LONG_POLL_MAX_AGE_SECS = 20;

export const NO_STORE = "no-store";
/** Reaches the tail: keep, but revalidate (ETag) before every use. */
export const REVALIDATE = "no-cache";
export const LONG_POLL_DATA = `public, max-age=${LONG_POLL_MAX_AGE_SECS}`;

export function renderEtag(incarnation: string, fromSeqNum: number, nextSeqNum: number, closed: boolean): string {
  return `"${incarnation}:${renderOffset(fromSeqNum)}:${renderOffset(nextSeqNum)}${closed ? ":c" : ""}"`;
}

/** `If-None-Match` holds `etag`: a list of tags or `*` (RFC 9110 §13.1.2; weak tags compare weakly). */
export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const candidate = tag.trim();
    return candidate === "*" || candidate.replace(/^W\//, "") === etag;
  });
}

/** Cache-Control of a catch-up response; `expiresAtMs` is when the stream expires if untouched (null: never). */
export function catchUpCacheControl(reachedTail: boolean, expiresAtMs: number | null, nowMs: number): string {
  if (reachedTail) return REVALIDATE;
  if (expiresAtMs === null) return `public, max-age=${IMMUTABLE_MAX_AGE_SECS}, stale-while-revalidate=${STALE_WHILE_REVALIDATE_SECS}`;
  const remainingSecs = Math.floor((expiresAtMs - nowMs) / 1000);
  return remainingSecs <= 0 ? NO_STORE : `public, max-age=${Math.min(IMMUTABLE_MAX_AGE_SECS, remainingSecs)}`;
}

/** Whether a response with this Cache-Control may go into the edge cache. */
export const isShareable = (cacheControl: string): boolean => cacheControl.startsWith("public");
