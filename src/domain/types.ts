/**
 * The engine's nouns, in S2's vocabulary. Every protocol edge translates its wire format to and from these.
 * Seq nums and timestamps are JS numbers: they stay below 2^53 because SQLite integers bound from JS must
 * (BigInt bindings throw in workerd), see limits.ts.
 */

/** A record header: name and value are raw bytes; duplicates allowed, order preserved. */
export type Header = readonly [name: Uint8Array, value: Uint8Array];

export interface StreamPosition {
  seqNum: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
}

export interface AppendRecord {
  /** Client-supplied timestamp (ms); absent means "none given", which timestamping modes treat differently. */
  timestamp?: number;
  headers: Header[];
  body: Uint8Array;
}

export interface AppendInput {
  records: AppendRecord[];
  /** Absent imposes nothing; 0 is a real condition (S2-API §9.2). */
  matchSeqNum?: number;
  fencingToken?: string;
}

export interface AppendAck {
  start: StreamPosition;
  end: StreamPosition;
  tail: StreamPosition;
}

export interface SequencedRecord {
  seqNum: number;
  timestamp: number;
  headers: Header[];
  body: Uint8Array;
}

export interface ReadBatch {
  records: SequencedRecord[];
  /** Present on batches produced by the live path; absent for historical catch-up. */
  tail?: StreamPosition;
  /**
   * True on the live batch after which the stream takes no more records (a Durable Streams close; the batch
   * may be empty). Only sessions that follow closure see it (http/read-session.ts).
   */
  closed?: boolean;
}

/** Where a read starts (S2-API §10.1). */
export type ReadStart =
  | { kind: "seq_num"; seqNum: number }
  | { kind: "timestamp"; timestamp: number }
  | { kind: "tail_offset"; tailOffset: number };

/** Bounds of a read. Absent fields are unbounded; count or bytes of 0 mean zero records. */
export interface ReadLimits {
  count?: number;
  /** Metered bytes. */
  bytes?: number;
  /** Exclusive timestamp bound. */
  until?: number;
}

export interface ReadRequest {
  start: ReadStart;
  limits: ReadLimits;
  /** Start at the tail instead of failing when the start is beyond it. */
  clamp: boolean;
  /**
   * Seconds to wait for new records. Unary reads long-poll for this long (0: not at all); sessions end after
   * this long without a new record (undefined: never).
   */
  waitSecs?: number;
}

/** What a read session produces; each protocol renders it (S2 SSE, S2S, WebSocket, Durable Streams). */
export type ReadOutput =
  | { kind: "batch"; batch: ReadBatch }
  /** Nothing new: the reader is alive and caught up to `tail`. */
  | { kind: "heartbeat"; tail: StreamPosition };
