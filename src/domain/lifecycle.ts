/**
 * What a stream is besides its records when it is managed through the Durable Streams protocol
 * (PROTOCOL.md §4–5): a content type fixed at creation, an expiry (sliding TTL or absolute instant), an
 * open→closed flag, the writer state that dedups retries, where it was forked from, and whether it was
 * deleted while forks still hold it. A stream created through S2 has none of this and behaves as
 * `defaultLifecycle` says, which is how S2 streams are readable through Durable Streams.
 *
 * Pure rules; the stream's object persists the state (storage/lifecycle-store.ts).
 */
import { err, ok, type Result } from "../lib/result";
import { streamError, type StreamError } from "./errors";
import type { ProducerClaim } from "./producer";

/** What a stream is when nobody said (PROTOCOL.md §5.1: no Content-Type on create). */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** An absolute expiry: the instant, and the text it was given as (echoed on HEAD, compared on re-create). */
export interface ExpiryInstant {
  ms: number;
  text: string;
}

/** The fork point a create asks for; `within` 0 means none. */
export interface ForkRequest {
  /** Name of the source stream, in the same basin. */
  source: string;
  /** A seq num, or null for the source's tail at fork time. */
  seqNum: number | null;
  /**
   * How far into the append that starts at `seqNum` the fork reaches: bytes of that record for binary
   * streams, records of that append batch for JSON streams (PROTOCOL.md §4.2 Stream-Fork-Sub-Offset).
   */
  within: number;
}

/** Where a fork came from, as created: the request plus the seq num it resolved to. */
export interface ForkOrigin extends ForkRequest {
  resolvedSeqNum: number;
}

/** A create request (PUT), as compared against an existing stream for idempotency. */
export interface CreateSpec {
  /** As sent; null when absent (a fork then inherits its source's, anything else is octet-stream). */
  contentType: string | null;
  ttlSecs: number | null;
  expiresAt: ExpiryInstant | null;
  closed: boolean;
  fork: ForkRequest | null;
}

export interface StreamLifecycle {
  /** As given at creation; replies echo it verbatim, comparisons use its media type. */
  contentType: string;
  /** Sliding idle window: the stream expires this long after its last read or write. */
  ttlSecs: number | null;
  expiresAt: ExpiryInstant | null;
  /** Last read or write that reached the stream (ms since the Unix epoch); HEAD does not count. */
  lastAccessMs: number;
  closed: boolean;
  /** The producer claim of the append that closed the stream, so its retry is answered as a duplicate. */
  closedBy: ProducerClaim | null;
  /** The last accepted Stream-Seq token (domain/producer.ts). */
  lastStreamSeq: string | null;
  fork: ForkOrigin | null;
  /** Deleted while forks held it: gone for direct access, kept until the last fork lets go. */
  softDeleted: boolean;
  /** Differs for every creation under the same name, so ETags of a deleted stream never match a new one. */
  incarnation: string;
  /** A subscription links this stream: each append reports the new tail to the basin's subscriptions. */
  watched: boolean;
}

/** An appended body and the records it becomes under each content type (see recordBodies). */
export interface AppendPayload {
  bytes: Uint8Array;
  /** The body parsed as JSON messages, when the request may be in JSON mode (its type is JSON or absent). */
  messages?: Result<Uint8Array[], StreamError>;
}

/** The part of a content type that decides matches: before any `;`, trimmed, lower-cased (PROTOCOL.md §9). */
export const mediaType = (contentType: string): string => contentType.split(";")[0]!.trim().toLowerCase();

/** JSON mode is exactly `application/json`: not ndjson, not `+json` types (PROTOCOL.md §9.1). */
export const isJsonType = (contentType: string): boolean => mediaType(contentType) === "application/json";

export function defaultLifecycle(createdAtMs: number): StreamLifecycle {
  return {
    contentType: DEFAULT_CONTENT_TYPE, ttlSecs: null, expiresAt: null, lastAccessMs: createdAtMs, closed: false,
    closedBy: null, lastStreamSeq: null, fork: null, softDeleted: false, incarnation: `c${createdAtMs.toString(36)}`,
    watched: false,
  };
}

/** What a fork takes from its source when its own create does not say (PROTOCOL.md §4.2 expiry table). */
export interface Inheritance {
  contentType: string;
  ttlSecs: number | null;
  expiresAt: ExpiryInstant | null;
}

export function newLifecycle(spec: CreateSpec, nowMs: number, incarnation: string, inherited?: Inheritance, fork?: ForkOrigin): StreamLifecycle {
  const ownExpiry = spec.ttlSecs !== null || spec.expiresAt !== null;
  return {
    contentType: spec.contentType ?? inherited?.contentType ?? DEFAULT_CONTENT_TYPE,
    ttlSecs: ownExpiry ? spec.ttlSecs : inherited?.ttlSecs ?? null,
    expiresAt: ownExpiry ? spec.expiresAt : inherited?.expiresAt ?? null,
    lastAccessMs: nowMs,
    closed: spec.closed,
    closedBy: null,
    lastStreamSeq: null,
    fork: fork ?? null,
    softDeleted: false,
    incarnation,
    watched: false,
  };
}

/**
 * Whether a repeated create asks for the stream that exists (200) or another one (409), PROTOCOL.md §5.1 and
 * §4.2: media types, expiry (a fork that names none inherited one), closed flag, and fork lineage (an omitted
 * fork point matches any; an omitted `within` is 0). The body of a repeat is ignored.
 */
export function matchesSpec(lifecycle: StreamLifecycle, spec: CreateSpec): boolean {
  const requestedType = spec.contentType ?? (spec.fork ? lifecycle.contentType : DEFAULT_CONTENT_TYPE);
  if (mediaType(requestedType) !== mediaType(lifecycle.contentType)) return false;
  const inheritsExpiry = spec.fork !== null && spec.ttlSecs === null && spec.expiresAt === null;
  if (!inheritsExpiry &&
    (spec.ttlSecs !== lifecycle.ttlSecs || (spec.expiresAt?.text ?? null) !== (lifecycle.expiresAt?.text ?? null))) return false;
  if (spec.closed !== lifecycle.closed) return false;
  const origin = lifecycle.fork;
  if (spec.fork === null || origin === null) return spec.fork === origin;
  return spec.fork.source === origin.source && spec.fork.within === origin.within &&
    (spec.fork.seqNum === null || spec.fork.seqNum === origin.resolvedSeqNum);
}

/**
 * A sliding TTL runs from when the stream's object saw the last access, but a client can only count from
 * when it got the answer: the window is stretched by this much, so a client that comes back just inside its
 * TTL by its own clock still finds the stream after a slow round trip. TTLs are whole seconds; absolute
 * expiries (Expires-At) are exact.
 */
export const TTL_GRACE_MS = 1000;

/** When the stream expires if nothing touches it again; null for never. */
export function expiresAtMs(lifecycle: StreamLifecycle): number | null {
  const sliding = lifecycle.ttlSecs === null ? Infinity : lifecycle.lastAccessMs + lifecycle.ttlSecs * 1000 + TTL_GRACE_MS;
  const expiry = Math.min(sliding, lifecycle.expiresAt?.ms ?? Infinity);
  return expiry === Infinity ? null : expiry;
}

export function isExpired(lifecycle: StreamLifecycle, nowMs: number): boolean {
  const expiry = expiresAtMs(lifecycle);
  return expiry !== null && nowMs >= expiry;
}

/**
 * The record bodies an appended body becomes (PROTOCOL.md §9.1): one record of the bytes (none for an empty
 * body), or in JSON mode one record per message. An empty JSON array creates an empty stream on PUT but is an
 * error on POST, where it would be an append of nothing.
 */
export function recordBodies(payload: AppendPayload, contentType: string, emptyArray: "allow" | "reject"): Result<Uint8Array[], StreamError> {
  if (!isJsonType(contentType)) return ok(payload.bytes.length === 0 ? [] : [payload.bytes]);
  if (payload.bytes.length === 0) return ok([]);
  const messages = payload.messages ?? err(streamError("bad_json", "JSON stream: the body was not sent as JSON"));
  if (messages.ok && messages.value.length === 0 && emptyArray === "reject") {
    return err(streamError("bad_json", "an empty JSON array appends nothing"));
  }
  return messages;
}
