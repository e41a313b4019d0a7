/**
 * The vocabulary of a recorded history: every call a client made against one stream, with when it was
 * invoked, when it returned and what it returned; and what readers saw. Pure data, no I/O: the checker
 * (checker.ts) judges a history against the stream's final contents, the recorder (recorder.ts) builds one.
 *
 * Records are recognizable: each record a harness writes carries a tag at the front of its body,
 *
 *   +-----------------------+-----+------------------------------+
 *   | `<key>#<index>` ASCII | `|` | payload: any bytes           |
 *   +-----------------------+-----+------------------------------+
 *
 * where `key` names the logical append (all attempts of a retried append share it) and `index` is the
 * record's place in its batch. Fence command records cannot carry a tag (their body is the token), so
 * their key is `fence:<token>`; harnesses use every token once.
 *
 * Times are milliseconds on one monotonic clock (the recorder's). A call that never returned, or returned
 * something that does not say whether it took effect, has `completedAtMs = Infinity` for the checker: its
 * effect, if any, may have happened at any time after it was invoked.
 */

export type Bytes = Uint8Array;
export type Header = readonly [name: Bytes, value: Bytes];

export interface RecordData {
  headers: readonly Header[];
  body: Bytes;
}

/** A record as the stream holds it. */
export interface LogRecord extends RecordData {
  seqNum: number;
  timestamp: number;
}

/** What an append attempt returned. */
export type AppendOutcome =
  /** Acknowledged: the records are at [start, end). `tail` is the tail the ack reported, if any. */
  | { type: "ok"; start: number; end: number; tail?: number; startTimestamp?: number; endTimestamp?: number }
  /** Acknowledged as a duplicate of an earlier attempt with the same key (idempotent producers). */
  | { type: "duplicate"; tail?: number }
  /** 412: the stream's tail was `expected`, not the attempt's match_seq_num. Nothing was written. */
  | { type: "seq_num_mismatch"; expected: number }
  /** 412: the stream's fencing token was `expected`, not the attempt's. Nothing was written. */
  | { type: "fencing_token_mismatch"; expected: string }
  /** Any other answer that promises nothing was written (4xx). */
  | { type: "rejected"; status: number; code: string }
  /** No answer, or one that does not say (5xx, connection lost, timeout): it may or may not have been written. */
  | { type: "unknown"; reason: string };

export interface AppendAttempt {
  kind: "append";
  /** Unique per attempt. */
  id: string;
  /** The logical append; retries of one append share it, and so do the tags of its records. */
  key: string;
  /** Which client made it (for messages). */
  client: string;
  records: readonly RecordData[];
  matchSeqNum?: number;
  fencingToken?: string;
  invokedAtMs: number;
  /** Infinity when the outcome is `unknown`. */
  completedAtMs: number;
  outcome: AppendOutcome;
}

/** A call that reported the tail: check-tail, a 416 read, a Durable Streams HEAD. */
export interface TailObservation {
  kind: "tail";
  id: string;
  client: string;
  invokedAtMs: number;
  completedAtMs: number;
  tail: number;
}

/** One thing a reader was handed. */
export type Delivery =
  /** One record (S2 reads: seq num, timestamp, headers and body). */
  | { type: "record"; atMs: number; seqNum: number; timestamp?: number; headers?: readonly Header[]; body: Bytes }
  /** The bodies of the data records [from, next), concatenated; command records are left out (Durable Streams). */
  | { type: "bytes"; atMs: number; from: number; next: number; bytes: Bytes }
  /** A tail the server reported while reading (live batch, heartbeat, Stream-Next-Offset at the tail). */
  | { type: "tail"; atMs: number; tail: number }
  /**
   * Compact forms for long runs with many readers (the soak): records [from, from + n) known only by their
   * `recordDigest`s, and a byte read known only by the digest and length of its bytes.
   */
  | { type: "digests"; atMs: number; from: number; digests: Uint32Array }
  | { type: "bytes-digest"; atMs: number; from: number; next: number; length: number; digest: number };

/**
 * A reader: one position moving forward across all its requests and reconnects. A unary read at a random
 * position is a reader of its own; a follower that reconnects after a fault stays one reader.
 */
export interface ReaderHistory {
  kind: "reader";
  id: string;
  client: string;
  protocol: string;
  /** The seq num the reader started from. */
  start: number;
  deliveries: Delivery[];
  /** Where the reader must have got to (a follower after the writers stopped: the final tail). */
  mustReach?: number;
  /** One past the last seq num delivered, kept up to date by the recorder (the checker recomputes it). */
  position?: number;
}

export interface History {
  /** Seq num of the first record ever written to the stream (0). */
  initialSeqNum: number;
  appends: AppendAttempt[];
  tails: TailObservation[];
  readers: ReaderHistory[];
}

export interface Violation {
  kind:
    | "log" | "phantom" | "lost" | "duplicate" | "partial" | "reorder" | "bytes" | "ack" | "failed-applied"
    | "condition" | "linearizability" | "reader-gap" | "reader-duplicate" | "reader-bytes" | "reader-stuck"
    | "harness";
  message: string;
}

// ---- record tags ----------------------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const SEPARATOR = 0x7c; // `|`
const FENCE = encoder.encode("fence");

/** Keys are ASCII without `#` or `|`, so a tag always parses back. */
const KEY_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** The body of record `index` of append `key`, with `payload` after the tag. */
export function taggedBody(key: string, index: number, payload: Bytes = new Uint8Array()): Bytes {
  if (!KEY_PATTERN.test(key)) throw new Error(`bad history key ${JSON.stringify(key)}`);
  const tag = encoder.encode(`${key}#${index}|`);
  const body = new Uint8Array(tag.length + payload.length);
  body.set(tag);
  body.set(payload, tag.length);
  return body;
}

/** A fence command record setting `token` (S2-API §8.2). */
export function fenceRecord(token: string): RecordData {
  return { headers: [[new Uint8Array(), FENCE]], body: encoder.encode(token) };
}

export function isFence(record: RecordData): boolean {
  const only = record.headers.length === 1 ? record.headers[0]! : undefined;
  return only !== undefined && only[0].length === 0 && equalBytes(only[1], FENCE);
}

/** The key and index a record was written with, or undefined when it carries no tag. */
export function identify(record: RecordData): { key: string; index: number } | undefined {
  if (isFence(record)) return { key: `fence:${decoder.decode(record.body)}`, index: 0 };
  const bar = record.body.indexOf(SEPARATOR);
  if (bar < 0 || bar > 200) return undefined;
  const tag = decoder.decode(record.body.subarray(0, bar));
  const hash = tag.lastIndexOf("#");
  if (hash <= 0) return undefined;
  const key = tag.slice(0, hash);
  const index = Number(tag.slice(hash + 1));
  if (!KEY_PATTERN.test(key) || !Number.isSafeInteger(index) || index < 0) return undefined;
  return { key, index };
}

export function equalBytes(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function equalHeaders(a: readonly Header[], b: readonly Header[]): boolean {
  return a.length === b.length && a.every((h, i) => equalBytes(h[0], b[i]![0]) && equalBytes(h[1], b[i]![1]));
}

/** A short printable form of some bytes, for messages. */
export function preview(bytes: Bytes, max = 40): string {
  const text = decoder.decode(bytes.subarray(0, max)).replace(/[^\x20-\x7e]/g, "·");
  return bytes.length > max ? `${text}…(${bytes.length} B)` : text;
}

/** FNV-1a (32 bit) over bytes, continuing from `hash`: cheap, and enough to tell a changed record apart. */
export function fnv1a(bytes: Bytes, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SEPARATOR_BYTES = new Uint8Array([0xff, 0xfe]);

/** A digest of a record's headers and body (not its position or timestamp). */
export function recordDigest(record: RecordData): number {
  let h = 0x811c9dc5;
  for (const [name, value] of record.headers) h = fnv1a(SEPARATOR_BYTES, fnv1a(value, fnv1a(SEPARATOR_BYTES, fnv1a(name, h))));
  return fnv1a(record.body, fnv1a(SEPARATOR_BYTES, h));
}
