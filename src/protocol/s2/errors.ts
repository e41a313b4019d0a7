/**
 * The only place an engine error becomes an S2 wire error (S2-API §2). Every transport renders from here:
 * HTTP responses now, SSE `error` events and S2S terminal frames from the same status and body.
 */
import type { MessageErrorCode, StreamError } from "../../domain/errors";

/** S2's error codes and their fixed statuses (S2-API §2.2). Keep this alphabetized. */
export const S2_STATUS: Readonly<Record<MessageErrorCode, number>> = {
  access_token_not_found: 404,
  authn: 401,
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
    default:
      return { status: S2_STATUS[error.code], body: JSON.stringify({ code: error.code, message: error.message }) };
  }
}
