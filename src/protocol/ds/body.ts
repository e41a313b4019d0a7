/**
 * How records read through Durable Streams become response bodies (PROTOCOL.md §5.6, §5.8, §9): the bodies
 * of the records in order, concatenated for byte streams, one JSON array for JSON streams; SSE carries text
 * streams as text and everything else as base64. Record headers are not part of Durable Streams data, and
 * S2 command records (fence, trim) are the engine's, not data: readers never see them.
 */
import { parseCommand } from "../../domain/commands";
import { isJsonType, mediaType } from "../../domain/lifecycle";
import type { SequencedRecord } from "../../domain/types";
import { concatBytes, fromUtf8Lossy, toBase64, utf8 } from "../../lib/bytes";
import { renderJsonArray } from "./json";

const isData = (record: SequencedRecord) => {
  const command = parseCommand(record);
  return command.ok && command.value === undefined;
};

export const dataBodies = (records: readonly SequencedRecord[]): Uint8Array[] =>
  records.filter(isData).map((record) => record.body);

/** A catch-up or long-poll body: JSON streams always get an array, `[]` when nothing is in range. */
export function renderReadBody(records: readonly SequencedRecord[], contentType: string): Uint8Array {
  const bodies = dataBodies(records);
  return isJsonType(contentType) ? utf8(renderJsonArray(bodies)) : concatBytes(bodies);
}

/** SSE data is UTF-8 text for `text/*` and JSON streams; every other type is base64 (PROTOCOL.md §5.8). */
export const isSseBase64 = (contentType: string): boolean => {
  const type = mediaType(contentType);
  return !type.startsWith("text/") && type !== "application/json";
};

/** The text of one SSE data event for these records. */
export function renderSsePayload(records: readonly SequencedRecord[], contentType: string): string {
  const bodies = dataBodies(records);
  if (isJsonType(contentType)) return renderJsonArray(bodies);
  const bytes = concatBytes(bodies);
  return isSseBase64(contentType) ? toBase64(bytes) : fromUtf8Lossy(bytes);
}
