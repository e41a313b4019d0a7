/**
 * The only place an engine error becomes a Durable Streams response (PROTOCOL.md §5, status matrix in
 * DURABLE-STREAMS.md §14): the status and the protocol headers a client acts on. Bodies are plain text for
 * people; clients must not parse them.
 */
import type { MessageErrorCode, StreamError } from "../../domain/errors";
import { unreachable } from "../../lib/assert";
import {
  PRODUCER_EPOCH, PRODUCER_EXPECTED_SEQ, PRODUCER_RECEIVED_SEQ, STREAM_CLOSED, STREAM_NEXT_OFFSET,
} from "./headers";
import { renderOffset } from "./offset";

/** Statuses of the errors that carry only a message. Keep this alphabetized. */
const DS_STATUS: Readonly<Record<MessageErrorCode, number>> = {
  access_token_not_found: 404,
  authn: 401,
  bad_frame: 400,
  bad_header: 400,
  bad_json: 400,
  bad_path: 400,
  bad_proto: 400,
  bad_query: 400,
  // The configured basin of Durable Streams is being deleted: streams cannot be created in it meanwhile.
  basin_deletion_pending: 409,
  basin_not_found: 404,
  // Durable Streams has no 422: a request the engine refuses as invalid is a bad request.
  invalid: 400,
  not_implemented: 501,
  other: 500,
  permission_denied: 403,
  // A create (PUT) that names an existing stream with a different configuration.
  resource_already_exists: 409,
  storage: 500,
  // The name of a soft-deleted stream (PUT), or a soft-deleted fork source.
  stream_deletion_pending: 409,
  stream_gone: 410,
  stream_not_found: 404,
  too_large: 413,
  transaction_conflict: 409,
  unavailable: 503,
};

export interface DsErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function renderDsError(error: StreamError): DsErrorResponse {
  switch (error.code) {
    case "stream_closed":
      // The final tail lets a writer see where the stream ended without another request (PROTOCOL.md §5.2).
      return {
        status: 409,
        headers: { [STREAM_CLOSED]: "true", [STREAM_NEXT_OFFSET]: renderOffset(error.tail.seqNum) },
        body: "stream is closed",
      };
    case "content_type_mismatch":
      return { status: 409, headers: {}, body: `content type does not match the stream's (${error.expected})` };
    case "producer_epoch_stale":
      return { status: 403, headers: { [PRODUCER_EPOCH]: String(error.currentEpoch) }, body: "stale producer epoch" };
    case "producer_seq_gap":
      return {
        status: 409,
        headers: { [PRODUCER_EXPECTED_SEQ]: String(error.expectedSeq), [PRODUCER_RECEIVED_SEQ]: String(error.receivedSeq) },
        body: "producer sequence gap",
      };
    case "stream_seq_regression":
      return { status: 409, headers: {}, body: "Stream-Seq must increase" };
    // The only reads with a fixed start are forks; a fork point beyond the source's tail is a bad request.
    case "unwritten":
      return { status: 400, headers: {}, body: "offset is beyond the stream's tail" };
    // S2 append conditions; no Durable Streams request carries them.
    case "seq_num_mismatch":
    case "fencing_token_mismatch":
      return { status: 409, headers: {}, body: "append condition failed" };
    // Only anonymous callers get here (a bad token is refused before any handler), so the challenge is plain.
    case "authn":
      return { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="edgestream"' }, body: error.message };
    default:
      if ("message" in error) return { status: DS_STATUS[error.code], headers: {}, body: error.message };
      return unreachable(error);
  }
}
