/**
 * The edge cache of immutable catch-up reads (DESIGN.md §3, Workers Cache API `caches.default`): a repeated
 * read of history is answered in the colo that received it and never reaches the stream's object.
 *
 * Keys carry the stream's incarnation, so entries of a deleted stream can never answer for a re-created one.
 * The Worker learns a stream's incarnation from the object's own responses and trusts it, per isolate, for
 * INCARNATION_TRUST_MS: a read of a stream this isolate has not seen lately goes to the object, which
 * refreshes the hint. A delete through this isolate forgets the hint at once; a delete through another one
 * can leave this isolate answering from the old incarnation's history for at most that long. (`caches.default`
 * is a no-op on workers.dev hosts; it works on custom domains and locally.)
 */

const INCARNATION_TRUST_MS = 30_000;
/** Bounds the hint map of a long-lived isolate; the oldest hint goes first. */
const HINTS_MAX = 10_000;
/** Set on cacheable reads: HIT when the edge answered, MISS when the object did. */
export const CACHE_STATUS = "X-Cache";
const INCARNATION_PARAM = "__incarnation";

const hints = new Map<string, { incarnation: string; seenAtMs: number }>();

export function rememberIncarnation(stream: string, incarnation: string, nowMs = Date.now()): void {
  hints.delete(stream);
  hints.set(stream, { incarnation, seenAtMs: nowMs });
  if (hints.size > HINTS_MAX) hints.delete(hints.keys().next().value!);
}

export function forgetIncarnation(stream: string): void {
  hints.delete(stream);
}

function knownIncarnation(stream: string, nowMs: number): string | undefined {
  const hint = hints.get(stream);
  return hint && nowMs - hint.seenAtMs < INCARNATION_TRUST_MS ? hint.incarnation : undefined;
}

function cacheKey(url: string, incarnation: string): Request {
  const key = new URL(url);
  key.searchParams.set(INCARNATION_PARAM, incarnation);
  key.searchParams.sort();
  return new Request(key.toString());
}

/** The cached response for this read, if this isolate knows the stream's incarnation and the edge has it. */
export async function cachedRead(stream: string, url: string): Promise<Response | undefined> {
  const incarnation = knownIncarnation(stream, Date.now());
  if (!incarnation) return undefined;
  const hit = await caches.default.match(cacheKey(url, incarnation));
  if (!hit) return undefined;
  const response = new Response(hit.body, hit);
  response.headers.set(CACHE_STATUS, "HIT");
  return response;
}

/** Stores an immutable read after the response has gone (the caller built it shareable: public, max-age). */
export function cacheRead(ctx: { waitUntil(promise: Promise<unknown>): void }, url: string, incarnation: string, body: Uint8Array, headers: Headers): void {
  ctx.waitUntil(caches.default.put(cacheKey(url, incarnation), new Response(body, { headers })));
}
