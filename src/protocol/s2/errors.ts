/**
 * The only place an engine error becomes an S2 wire error (S2-API §2). Every transport renders from here:
 * HTTP responses now, SSE `error` events and S2S terminal frames from the same status and body.
 */
import type { MessageErrorCode, StreamError } from "../../domain/errors";

/** Message codes the engine has for Durable Streams that S2 does not: renderS2Error maps them onto S2's. */
type ForeignCode = "stream_gone" | "too_large";

/** S2's error codes and their fixed statuses (S2-API §2.2). Keep this alphabetized. */
export const S2_STATUS: Readonly<Record<Exclude<MessageErrorCode, ForeignCode>, number>> = {
  access_token_not_found: 404,
  authn: 401,
  bad_frame: 400,
  bad_header: 400,
  bad_json: 400,
  bad_path: 400,
  bad_proto: 400,
  bad_query: 400,
  basin_deletion_pending: 409,
  basin_not_found: 404,
  invalid: 422,
  not_implemented: 501,
  other: 500,
  permission_denied: 403,
  resource_already_exists: 409,
  storage: 500,
  stream_deletion_pending: 409,
  stream_not_found: 404,
  transaction_conflict: 409,
  unavailable: 503,
};

export interface S2ErrorResponse {
  status: number;
  /** JSON text of the body the unary call returns. */
  body: string;
}

export function renderS2Error(error: StreamError): S2ErrorResponse {
  switch (error.code) {
    // Condition failures carry the server's current value and no `code` (S2-API §2.1).
    case "seq_num_mismatch":
      return { status: 412, body: JSON.stringify({ seq_num_mismatch: error.expectedSeqNum }) };
    case "fencing_token_mismatch":
      return { status: 412, body: JSON.stringify({ fencing_token_mismatch: error.expectedToken }) };
    case "unwritten":
      return { status: 416, body: JSON.stringify({ tail: { seq_num: error.tail.seqNum, timestamp: error.tail.timestamp } }) };
    // A soft-deleted Durable Streams stream is, to S2, a stream whose deletion is pending (its forks hold it).
    case "stream_gone":
      return coded(409, "stream_deletion_pending", error.message);
    // S2 calls a record or batch over its limits invalid.
    case "too_large":
      return coded(S2_STATUS.invalid, "invalid", error.message);
    // Durable Streams state seen through S2. Closed streams refuse S2 appends too: 409, because the request is
    // fine and the stream's state is what conflicts (422 `invalid` would tell the client to fix its request).
    case "stream_closed":
      return coded(409, "stream_closed", "stream is closed");
    // The rest are Durable Streams append conditions; S2 appends never carry them, so this is for completeness.
    case "content_type_mismatch":
    case "producer_epoch_stale":
    case "producer_seq_gap":
    case "stream_seq_regression":
      return coded(409, error.code, "append condition failed");
    default:
      return coded(S2_STATUS[error.code], error.code, error.message);
  }
}

const coded = (status: number, code: string, message: string): S2ErrorResponse =>
  ({ status, body: JSON.stringify({ code, message }) });
