/**
 * Live-read cursors (PROTOCOL.md §10.1): a number that changes every interval, sent on every live response
 * and echoed by clients as `cursor`, so each poll cycle is a new CDN cache key and a cached empty response
 * cannot be replayed forever. The suite requires decimal digits.
 *
 * A client whose cursor is already at or past the current interval (clock skew, or a cached response from
 * the future) gets a value strictly greater than its own, jumped by a random 1–3600 s worth of intervals so
 * that clients that collide do not stay in lockstep.
 */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
export const CURSOR_INTERVAL_MS = 20_000;
const JITTER_SECS_MAX = 3600;

export const currentInterval = (nowMs: number): number => Math.floor((nowMs - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);

/** `random` returns [0, 1), as Math.random (injected for tests). */
export function nextCursor(nowMs: number, clientCursor: string | null | undefined, random: () => number = Math.random): string {
  const current = currentInterval(nowMs);
  const client = clientCursor !== null && clientCursor !== undefined && /^\d{1,15}$/.test(clientCursor) ? Number(clientCursor) : undefined;
  if (client === undefined || client < current) return String(current);
  const jitterSecs = 1 + Math.floor(random() * JITTER_SECS_MAX);
  return String(client + Math.max(1, Math.ceil((jitterSecs * 1000) / CURSOR_INTERVAL_MS)));
}
