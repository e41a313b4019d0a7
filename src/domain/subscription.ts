/**
 * Durable Streams subscriptions (PROTOCOL.md §6–7), as pure rules: a subscription links streams (by glob
 * pattern or explicitly), remembers per link the last acked position, and wakes a worker — by webhook or by
 * a wake event on a pull-wake stream — whenever a linked stream's tail is past its ack. Wakes are fenced by
 * a generation and a wake id; a lease bounds how long a wake may stay unanswered.
 *
 * Positions here are engine seq nums (the protocol edge renders them as offsets); a link is pending while
 * its tail is beyond its acked position.
 */
import { err, ok, type Result } from "../lib/result";

export type SubscriptionType = "webhook" | "pull-wake";

/** A subscription's configuration, normalized, so equal configurations compare equal (PROTOCOL.md §6.2). */
export interface SubscriptionConfig {
  type: SubscriptionType;
  pattern: string | null;
  /** Explicit stream paths, sorted and without duplicates. */
  streams: string[];
  webhookUrl: string | null;
  wakeStream: string | null;
  leaseTtlMs: number;
  description: string | null;
}

/** Lease bounds (PROTOCOL.md §6.2): 1 s to 10 min, 30 s by default. */
export const LEASE_TTL_MS_MIN = 1_000;
export const LEASE_TTL_MS_MAX = 600_000;
export const LEASE_TTL_MS_DEFAULT = 30_000;

/** The protocol's own error vocabulary for subscription APIs: `{ "error": { "code": … } }` bodies. */
export type SubscriptionError =
  | { code: "INVALID_REQUEST" | "WEBHOOK_URL_REJECTED" | "NOT_FOUND" | "CONFLICT" | "FENCED" | "UNAUTHORIZED" | "NOTHING_TO_CLAIM"; message: string }
  | { code: "ALREADY_CLAIMED"; message: string; currentHolder: string; generation: number };

export const subscriptionError = (code: Exclude<SubscriptionError["code"], "ALREADY_CLAIMED">, message: string): SubscriptionError =>
  ({ code, message });

export interface Link {
  path: string;
  explicit: boolean;
  glob: boolean;
  ackedSeqNum: number;
  tailSeqNum: number;
}

/** One stream as a wake reports it: where the worker is, and how far the stream is. */
export interface WakeStream {
  path: string;
  explicit: boolean;
  ackedSeqNum: number;
  tailSeqNum: number;
}

/** A wake in flight (PROTOCOL.md §7): its id, the token that may answer it, who holds it, until when. */
export interface Wake {
  id: string;
  /** Callback token (webhook) or claim token (pull-wake); null while a pull wake waits for its claim. */
  token: string | null;
  holder: string | null;
  leaseExpiresAtMs: number | null;
  streams: WakeStream[];
}

/** What a claim hands its worker (PROTOCOL.md §7.2). */
export interface Claim {
  wake: Wake;
  generation: number;
  leaseTtlMs: number;
}

export const isPending = (link: { ackedSeqNum: number; tailSeqNum: number }): boolean => link.tailSeqNum > link.ackedSeqNum;

/**
 * Glob over stream paths (PROTOCOL.md §6.2): `*` is exactly one segment, `**` zero or more segments;
 * anything else is literal.
 */
export function matchesGlob(pattern: string, path: string): boolean {
  const match = (p: readonly string[], s: readonly string[]): boolean => {
    if (p.length === 0) return s.length === 0;
    const [head, ...rest] = p;
    if (head === "**") return match(rest, s) || (s.length > 0 && match(p, s.slice(1)));
    if (s.length === 0) return false;
    return (head === "*" || head === s[0]) && match(rest, s.slice(1));
  };
  return match(pattern.split("/"), path.split("/"));
}

/** The literal part of a pattern before its first wildcard segment: a listing prefix for backfill. */
export function globPrefix(pattern: string): string {
  const segments = pattern.split("/");
  const literal = segments.findIndex((segment) => segment === "*" || segment === "**");
  return literal === -1 ? pattern : segments.slice(0, literal).map((segment) => `${segment}/`).join("");
}

const PRIVATE_V4 = [/^10\./, /^127\./, /^169\.254\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^0\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];

/**
 * Webhook URLs against SSRF (PROTOCOL.md §6.2, §12.8): https only, never a private, loopback, link-local or
 * metadata address; plain http to localhost / 127.0.0.x only when local development is allowed.
 */
export function checkWebhookUrl(text: string, allowLocalhost: boolean): Result<string, SubscriptionError> {
  const rejected = (message: string) => err(subscriptionError("WEBHOOK_URL_REJECTED", message));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return rejected("webhook.url is not a URL");
  }
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const localhost = host === "localhost" || /^127\.0\.0\.\d{1,3}$/.test(host);
  if (allowLocalhost && localhost && (url.protocol === "http:" || url.protocol === "https:")) return ok(url.href);
  if (url.protocol !== "https:") return rejected("webhook.url must use https");
  if (localhost || host.endsWith(".localhost") || PRIVATE_V4.some((range) => range.test(host))) return rejected("webhook.url names a local network address");
  if (host.includes(":") && (host === "::1" || host === "::" || /^(fc|fd|fe[89ab])/.test(host) || host.startsWith("::ffff:"))) {
    return rejected("webhook.url names a local network address");
  }
  if (host === "metadata.google.internal" || host === "169.254.169.254") return rejected("webhook.url names a metadata endpoint");
  return ok(url.href);
}
