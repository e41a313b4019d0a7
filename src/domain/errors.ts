/**
 * The one error type of the engine. Expected failures are values of this union, returned in a Result; each
 * protocol renders them in exactly one place (protocol/s2/errors.ts). Codes reuse S2's spelling.
 */
import type { StreamPosition } from "./types";

/** Failures that carry nothing but a human message; the code alone decides the wire status. */
export type MessageErrorCode =
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
  | "resource_already_exists"
  | "storage"
  | "stream_deletion_pending"
  | "stream_not_found"
  | "transaction_conflict"
  | "unavailable";

export type StreamError =
  | { code: MessageErrorCode; message: string }
  /** The append's match_seq_num differs from the next seq num the stream would assign. */
  | { code: "seq_num_mismatch"; expectedSeqNum: number }
  /** The append's fencing token differs from the stream's current one. */
  | { code: "fencing_token_mismatch"; expectedToken: string }
  /** The read starts beyond what has been written. */
  | { code: "unwritten"; tail: StreamPosition };

export const streamError = (code: MessageErrorCode, message: string): StreamError => ({ code, message });

export const invalid = (message: string): StreamError => streamError("invalid", message);
