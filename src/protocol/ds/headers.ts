/**
 * Every Durable Streams header and query parameter name, once (PROTOCOL.md §5, §10; the names of the
 * official client's constants). Header names are case-insensitive on the wire; these are the canonical
 * spellings we send.
 */

/** The offset after the last byte or message of a response: where the reader continues. */
export const STREAM_NEXT_OFFSET = "Stream-Next-Offset";
/** `true` when a read reached the tail as it was when the response was made (not EOF). */
export const STREAM_UP_TO_DATE = "Stream-Up-To-Date";
/** `true` on closed streams (HEAD), on reads that reached a closed stream's end, and on a close. */
export const STREAM_CLOSED = "Stream-Closed";
/** Live responses' CDN-collapsing token, echoed back by the client as `cursor` (PROTOCOL.md §10.1). */
export const STREAM_CURSOR = "Stream-Cursor";
/** Opaque writer token that must strictly increase (byte-wise) across appends (PROTOCOL.md §5.2). */
export const STREAM_SEQ = "Stream-Seq";
/** Sliding idle window in seconds, on create and on HEAD. */
export const STREAM_TTL = "Stream-TTL";
/** Absolute RFC 3339 expiry, on create and on HEAD. */
export const STREAM_EXPIRES_AT = "Stream-Expires-At";
/** `base64` on SSE responses of binary streams (PROTOCOL.md §5.8). */
export const STREAM_SSE_DATA_ENCODING = "Stream-SSE-Data-Encoding";
/** Fork creation (PROTOCOL.md §4.2): the source's path, the fork point, and units past it. */
export const STREAM_FORKED_FROM = "Stream-Forked-From";
export const STREAM_FORK_OFFSET = "Stream-Fork-Offset";
export const STREAM_FORK_SUB_OFFSET = "Stream-Fork-Sub-Offset";
/** Idempotent producers (PROTOCOL.md §5.2.1). */
export const PRODUCER_ID = "Producer-Id";
export const PRODUCER_EPOCH = "Producer-Epoch";
export const PRODUCER_SEQ = "Producer-Seq";
export const PRODUCER_EXPECTED_SEQ = "Producer-Expected-Seq";
export const PRODUCER_RECEIVED_SEQ = "Producer-Received-Seq";

/** Query parameters of reads. */
export const OFFSET_PARAM = "offset";
export const LIVE_PARAM = "live";
export const CURSOR_PARAM = "cursor";
export const LIVE_LONG_POLL = "long-poll";
export const LIVE_SSE = "sse";

/** The path every stream lives under; a stream's name is the rest of the path. */
export const STREAM_ROOT = "/v1/stream/";
/** The first segment reserved for control APIs (subscriptions, JWKS), never a stream (PROTOCOL.md §6). */
export const CONTROL_SEGMENT = "__ds";

/**
 * On every response, errors and live ones included: no MIME sniffing of stream bytes, readable from any
 * origin, and the protocol headers visible to browser clients (PROTOCOL.md §10.7).
 */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Resource-Policy": "cross-origin",
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": [
    STREAM_NEXT_OFFSET, STREAM_CURSOR, STREAM_UP_TO_DATE, STREAM_CLOSED, PRODUCER_EPOCH, PRODUCER_SEQ,
    PRODUCER_EXPECTED_SEQ, PRODUCER_RECEIVED_SEQ, "ETag", "Content-Type", "Content-Encoding", "Vary",
    STREAM_SSE_DATA_ENCODING, STREAM_TTL, STREAM_EXPIRES_AT, "Location",
  ].join(", "),
};

/** CORS preflight answers: every method, and every request header a client may send, If-None-Match included. */
export const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": [
    "Content-Type", "Authorization", "If-None-Match", STREAM_SEQ, STREAM_TTL, STREAM_EXPIRES_AT, STREAM_CLOSED,
    PRODUCER_ID, PRODUCER_EPOCH, PRODUCER_SEQ, STREAM_FORKED_FROM, STREAM_FORK_OFFSET, STREAM_FORK_SUB_OFFSET,
  ].join(", "),
  "Access-Control-Max-Age": "86400",
};

/** Header values of `true` count case-insensitively; anything else is absent, never an error (PROTOCOL.md §4.1). */
export const isTrue = (value: string | null | undefined): boolean => value?.trim().toLowerCase() === "true";
