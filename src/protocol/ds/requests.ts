/**
 * Durable Streams request headers → domain inputs (PROTOCOL.md §4.2, §5.1, §5.2, §5.2.1). Pure: the edge
 * handlers pass the request's Headers and get a Result; nothing here knows about streams' state.
 */
import { streamError, type StreamError } from "../../domain/errors";
import type { CreateSpec, ExpiryInstant, ForkRequest } from "../../domain/lifecycle";
import type { ProducerClaim } from "../../domain/producer";
import { err, ok, type Result } from "../../lib/result";
import {
  isTrue, PRODUCER_EPOCH, PRODUCER_ID, PRODUCER_SEQ, STREAM_CLOSED, STREAM_EXPIRES_AT, STREAM_FORK_OFFSET,
  STREAM_FORK_SUB_OFFSET, STREAM_FORKED_FROM, STREAM_ROOT, STREAM_SEQ, STREAM_TTL,
} from "./headers";
import { parseForkOffset } from "./offset";

/** What an append (POST) says besides its body. */
export interface AppendHeaders {
  contentType: string | null;
  close: boolean;
  producer: ProducerClaim | null;
  streamSeq: string | null;
}

/** Non-negative decimal integers without sign, leading zeros, fraction or exponent (suite: TTL, sub-offset). */
const CANONICAL_UINT = /^(0|[1-9][0-9]*)$/;
/** Producer epochs and seqs: digits only (leading zeros allowed), at most 2^53 − 1 (PROTOCOL.md §5.2.1). */
const DIGITS = /^[0-9]+$/;
/** RFC 3339 date-time: `T` or space-free, seconds required, `Z` or a numeric offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const badHeader = (message: string) => err(streamError("bad_header", message));

function header(headers: Headers, name: string): string | null {
  return headers.get(name);
}

export function parseContentType(headers: Headers): string | null {
  const value = headers.get("content-type")?.trim();
  return value ? value : null;
}

function parseUint(value: string, name: string, pattern: RegExp): Result<number, StreamError> {
  const trimmed = value.trim();
  if (!pattern.test(trimmed)) return badHeader(`${name}: expected a non-negative integer`);
  const number = Number(trimmed);
  return Number.isSafeInteger(number) ? ok(number) : badHeader(`${name}: must not exceed 2^53 - 1`);
}

function parseExpiresAt(value: string): Result<ExpiryInstant, StreamError> {
  const text = value.trim();
  const ms = RFC3339.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(ms) ? badHeader(`${STREAM_EXPIRES_AT}: expected an RFC 3339 timestamp`) : ok({ ms, text });
}

/** A stream's name from its path below the stream root, as `Stream-Forked-From` carries it (or a full URL). */
export function streamNameFromPath(value: string): string | undefined {
  let path = value.trim();
  if (!path.startsWith("/")) {
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  if (!path.startsWith(STREAM_ROOT)) return undefined;
  try {
    return decodeURIComponent(path.slice(STREAM_ROOT.length));
  } catch {
    return undefined;
  }
}

function parseFork(headers: Headers): Result<ForkRequest | null, StreamError> {
  const from = header(headers, STREAM_FORKED_FROM);
  const offset = header(headers, STREAM_FORK_OFFSET);
  const within = header(headers, STREAM_FORK_SUB_OFFSET);
  if (from === null) {
    if (offset !== null || within !== null) return badHeader(`fork headers need ${STREAM_FORKED_FROM}`);
    return ok(null);
  }
  const source = streamNameFromPath(from);
  if (!source) return badHeader(`${STREAM_FORKED_FROM}: expected a stream path under ${STREAM_ROOT}`);
  const seqNum = offset === null ? ok(null) : parseForkOffset(offset);
  if (!seqNum.ok) return seqNum;
  const units = within === null ? ok(0) : parseUint(within, STREAM_FORK_SUB_OFFSET, CANONICAL_UINT);
  if (!units.ok) return units;
  return ok({ source, seqNum: seqNum.value, within: units.value });
}

/** PUT (PROTOCOL.md §5.1): content type, TTL xor Expires-At, created closed, fork headers. */
export function parseCreateHeaders(headers: Headers): Result<CreateSpec, StreamError> {
  const ttl = header(headers, STREAM_TTL);
  const expires = header(headers, STREAM_EXPIRES_AT);
  if (ttl !== null && expires !== null) return badHeader(`${STREAM_TTL} and ${STREAM_EXPIRES_AT} exclude each other`);
  const ttlSecs = ttl === null ? ok(null) : parseUint(ttl, STREAM_TTL, CANONICAL_UINT);
  if (!ttlSecs.ok) return ttlSecs;
  const expiresAt = expires === null ? ok(null) : parseExpiresAt(expires);
  if (!expiresAt.ok) return expiresAt;
  const fork = parseFork(headers);
  if (!fork.ok) return fork;
  return ok({
    contentType: parseContentType(headers), ttlSecs: ttlSecs.value, expiresAt: expiresAt.value,
    closed: isTrue(header(headers, STREAM_CLOSED)), fork: fork.value,
  });
}

/** The producer triple: all three or none; a non-empty id; digit-only numbers below 2^53. */
function parseProducer(headers: Headers): Result<ProducerClaim | null, StreamError> {
  const id = header(headers, PRODUCER_ID);
  const epoch = header(headers, PRODUCER_EPOCH);
  const seq = header(headers, PRODUCER_SEQ);
  const present = [id, epoch, seq].filter((value) => value !== null).length;
  if (present === 0) return ok(null);
  if (present < 3) return badHeader(`${PRODUCER_ID}, ${PRODUCER_EPOCH} and ${PRODUCER_SEQ} go together`);
  if (id!.trim() === "") return badHeader(`${PRODUCER_ID} must not be empty`);
  const epochValue = parseUint(epoch!, PRODUCER_EPOCH, DIGITS);
  if (!epochValue.ok) return epochValue;
  const seqValue = parseUint(seq!, PRODUCER_SEQ, DIGITS);
  if (!seqValue.ok) return seqValue;
  return ok({ id: id!, epoch: epochValue.value, seq: seqValue.value });
}

/** POST (PROTOCOL.md §5.2): producer headers are checked first, as the reference server does. */
export function parseAppendHeaders(headers: Headers): Result<AppendHeaders, StreamError> {
  const producer = parseProducer(headers);
  if (!producer.ok) return producer;
  return ok({
    contentType: parseContentType(headers), close: isTrue(header(headers, STREAM_CLOSED)),
    producer: producer.value, streamSeq: header(headers, STREAM_SEQ),
  });
}
