/**
 * The one error type of the engine. Expected failures are values of this union, returned in a Result; each
 * protocol renders them in exactly one place (protocol/s2/errors.ts, protocol/ds/errors.ts). Codes reuse S2's
 * spelling where S2 has the concept.
 */
import type { StreamPosition } from "./types";

/** Failures that carry nothing but a human message; the code alone decides the wire status. */
export type MessageErrorCode =
  | "access_token_not_found"
  | "authn"
  /** A malformed S2S frame in an append session (S2-API §12.2–12.3). */
  | "bad_frame"
  | "bad_header"
  | "bad_json"
  | "bad_path"
  | "bad_proto"
  | "bad_query"
  | "basin_deletion_pending"
  | "basin_not_found"
  | "invalid"
  | "not_implemented"
  | "other"
  | "permission_denied"
  | "resource_already_exists"
  | "storage"
  | "stream_deletion_pending"
  /** Deleted while forks still reference it (Durable Streams soft delete): gone for direct access. */
  | "stream_gone"
  | "stream_not_found"
  /** A body larger than one append batch can ever hold. */
  | "too_large"
  | "transaction_conflict"
  | "unavailable";

export type StreamError =
  | { code: MessageErrorCode; message: string }
  /** The append's match_seq_num differs from the next seq num the stream would assign. */
  | { code: "seq_num_mismatch"; expectedSeqNum: number }
  /** The append's fencing token differs from the stream's current one. */
  | { code: "fencing_token_mismatch"; expectedToken: string }
  /** The read starts beyond what has been written. */
  | { code: "unwritten"; tail: StreamPosition }
  /** The stream was closed (Durable Streams); it takes no more records. `tail` is its final tail. */
  | { code: "stream_closed"; tail: StreamPosition }
  /** The append's content type is not the stream's (compared by media type). */
  | { code: "content_type_mismatch"; expected: string }
  /** A producer claims an epoch older than the stream has seen from it (zombie fencing, domain/producer.ts). */
  | { code: "producer_epoch_stale"; currentEpoch: number }
  /** A producer skipped ahead: its batch is not the next one the stream expects from it. */
  | { code: "producer_seq_gap"; expectedSeq: number; receivedSeq: number }
  /** The append's Stream-Seq does not sort strictly after the last accepted one. */
  | { code: "stream_seq_regression"; lastSeq: string };

export const streamError = (code: MessageErrorCode, message: string): StreamError => ({ code, message });

export const invalid = (message: string): StreamError => streamError("invalid", message);
