/**
 * S2 JSON bodies of the data plane (S2-API §8.5): AppendInput in, AppendAck / ReadBatch / tail out. Record
 * bytes travel as strings per `s2-format`: `raw` (UTF-8 in, lossy UTF-8 out) or `base64` (standard, padded).
 * A header is a two-element array `[name, value]`; empty headers and bodies are omitted on output.
 */
import { invalid, type StreamError } from "../../domain/errors";
import type { AppendAck, AppendInput, AppendRecord, Header, ReadBatch, SequencedRecord, StreamPosition } from "../../domain/types";
import { fromBase64, fromUtf8Lossy, toBase64, utf8 } from "../../lib/bytes";
import { err, type Result } from "../../lib/result";
import { asArray, asObject, asString, asU64, BadJson, readJson } from "./json-fields";

export type RecordFormat = "raw" | "base64";

/** Header value → format; lite's aliases included (S2-API §1.4). */
const RECORD_FORMATS: Readonly<Record<string, RecordFormat>> = {
  raw: "raw",
  json: "raw",
  base64: "base64",
  "json-binsafe": "base64",
};

/** The format an `s2-format` value names, or undefined (own keys only: not "constructor" and friends). */
export const parseRecordFormat = (value: string): RecordFormat | undefined =>
  Object.hasOwn(RECORD_FORMATS, value) ? RECORD_FORMATS[value] : undefined;

/** Bad base64 is a semantic failure (422), unlike a malformed body (400). */
class BadBase64 extends Error {}

function decodeBytes(value: unknown, format: RecordFormat, field: string): Uint8Array {
  const text = asString(value, field);
  if (format === "raw") return utf8(text);
  const bytes = fromBase64(text);
  if (!bytes) throw new BadBase64(`${field}: invalid Base64 encoding`);
  return bytes;
}

const encodeBytes = (bytes: Uint8Array, format: RecordFormat): string =>
  format === "raw" ? fromUtf8Lossy(bytes) : toBase64(bytes);

function parseRecord(value: unknown, format: RecordFormat, field: string): AppendRecord {
  const json = asObject(value, field);
  const record: AppendRecord = {
    headers: json.headers == null ? [] : asArray(json.headers, `${field}.headers`).map((header, i): Header => {
      const pair = asArray(header, `${field}.headers[${i}]`);
      if (pair.length !== 2) throw new BadJson(`${field}.headers[${i}]: expected [name, value]`);
      return [decodeBytes(pair[0], format, `${field}.headers[${i}][0]`), decodeBytes(pair[1], format, `${field}.headers[${i}][1]`)];
    }),
    body: json.body == null ? new Uint8Array() : decodeBytes(json.body, format, `${field}.body`),
  };
  if (json.timestamp != null) record.timestamp = asU64(json.timestamp, `${field}.timestamp`);
  return record;
}

export function parseAppendInput(body: unknown, format: RecordFormat): Result<AppendInput, StreamError> {
  try {
    return readJson(() => {
      const json = asObject(body, "body");
      const input: AppendInput = {
        records: asArray(json.records, "records").map((record, i) => parseRecord(record, format, `records[${i}]`)),
      };
      if (json.match_seq_num != null) input.matchSeqNum = asU64(json.match_seq_num, "match_seq_num");
      if (json.fencing_token != null) input.fencingToken = asString(json.fencing_token, "fencing_token");
      return input;
    });
  } catch (error) {
    if (error instanceof BadBase64) return err(invalid(error.message));
    throw error;
  }
}

export const renderPosition = (position: StreamPosition) => ({ seq_num: position.seqNum, timestamp: position.timestamp });

export const renderAppendAck = (ack: AppendAck) => ({
  start: renderPosition(ack.start),
  end: renderPosition(ack.end),
  tail: renderPosition(ack.tail),
});

function renderRecord(record: SequencedRecord, format: RecordFormat) {
  const json: Record<string, unknown> = { seq_num: record.seqNum, timestamp: record.timestamp };
  if (record.headers.length > 0) {
    json.headers = record.headers.map(([name, value]) => [encodeBytes(name, format), encodeBytes(value, format)]);
  }
  if (record.body.length > 0) json.body = encodeBytes(record.body, format);
  return json;
}

export function renderReadBatch(batch: ReadBatch, format: RecordFormat) {
  const json: Record<string, unknown> = { records: batch.records.map((record) => renderRecord(record, format)) };
  if (batch.tail) json.tail = renderPosition(batch.tail);
  return json;
}
