/**
 * The append rules of one stream, as a pure state transition: validate the batch, check its conditions
 * against the stream's state, assign seq nums and timestamps, apply command records. The stream's Durable
 * Object runs this inside one synchronous transaction and persists the result; nothing here does I/O.
 */
import { err, ok, type Result } from "../lib/result";
import { parseCommand } from "./commands";
import type { StreamConfig } from "./config";
import { invalid, streamError, type StreamError } from "./errors";
import { METERED_BYTES_PER_BATCH_MAX, RECORDS_PER_BATCH_MAX, TOKEN_BYTES_MAX } from "./limits";
import { meteredBytes } from "./metering";
import { assignTimestamps } from "./timestamping";
import { utf8 } from "../lib/bytes";
import type { AppendAck, AppendInput, AppendRecord, SequencedRecord, StreamPosition } from "./types";

/** What the conditions and sequencing of the next append depend on. */
export interface StreamState {
  /** The tail: next seq num to assign, and the timestamp of the last record (0 before the first). */
  tail: StreamPosition;
  fencingToken: string;
  /** Records below this seq num are trimmed. */
  trimPoint: number;
}

export const EMPTY_STREAM_STATE: Readonly<StreamState> = { tail: { seqNum: 0, timestamp: 0 }, fencingToken: "", trimPoint: 0 };

/** Batch rules that need no stream state (S2-API §8.2–8.4); the edge runs them before any I/O. */
export function checkAppendInput(input: AppendInput): Result<AppendInput, StreamError> {
  if (input.records.length === 0) return err(invalid("record batch must not be empty"));
  if (input.records.length > RECORDS_PER_BATCH_MAX) {
    return err(invalid(`record batch must not exceed ${RECORDS_PER_BATCH_MAX} records`));
  }
  if (input.fencingToken !== undefined && utf8(input.fencingToken).length > TOKEN_BYTES_MAX) {
    return err(invalid(`fencing token must not exceed ${TOKEN_BYTES_MAX} bytes`));
  }
  let batchBytes = 0;
  for (const record of input.records) {
    const command = parseCommand(record);
    if (!command.ok) return err(invalid(command.error));
    batchBytes += meteredBytes(record);
  }
  if (batchBytes > METERED_BYTES_PER_BATCH_MAX) {
    return err(invalid(`record batch must not exceed ${METERED_BYTES_PER_BATCH_MAX} metered bytes`));
  }
  return ok(input);
}

export interface PlannedAppend {
  records: SequencedRecord[];
  ack: AppendAck;
  state: StreamState;
}

/** Conditions (fencing token first, then match_seq_num), timestamps, seq nums and command effects. */
export function planAppend(
  state: StreamState,
  input: AppendInput,
  config: StreamConfig,
  arrivalMs: number,
): Result<PlannedAppend, StreamError> {
  if (input.fencingToken !== undefined && input.fencingToken !== state.fencingToken) {
    return err({ code: "fencing_token_mismatch", expectedToken: state.fencingToken });
  }
  if (input.matchSeqNum !== undefined && input.matchSeqNum !== state.tail.seqNum) {
    return err({ code: "seq_num_mismatch", expectedSeqNum: state.tail.seqNum });
  }
  const timestamps = assignTimestamps(
    input.records.map((record) => record.timestamp),
    { mode: config.timestampingMode, uncapped: config.timestampingUncapped },
    arrivalMs,
    state.tail.timestamp,
  );
  if (!timestamps.ok) return timestamps;

  let { fencingToken, trimPoint } = state;
  const records = input.records.map((record, index): SequencedRecord => {
    const seqNum = state.tail.seqNum + index;
    const command = parseCommand(record);
    if (command.ok && command.value?.kind === "fence") fencingToken = command.value.token;
    // A trim never reaches past itself and never moves backwards (S2-API §9.5).
    if (command.ok && command.value?.kind === "trim") trimPoint = Math.max(trimPoint, Math.min(command.value.trimPoint, seqNum + 1));
    return { seqNum, timestamp: timestamps.value[index]!, headers: record.headers, body: record.body };
  });

  const last = records[records.length - 1]!;
  const start = { seqNum: records[0]!.seqNum, timestamp: records[0]!.timestamp };
  const end = { seqNum: last.seqNum + 1, timestamp: last.timestamp };
  return ok({ records, ack: { start, end, tail: end }, state: { tail: end, fencingToken, trimPoint } });
}

/**
 * Records that may not fit one batch (a Durable Streams JSON append of many messages), planned as consecutive
 * batches of at most RECORDS_PER_BATCH_MAX records and METERED_BYTES_PER_BATCH_MAX metered bytes, for one
 * transaction to commit together. A record that alone exceeds a batch is `too_large`.
 */
export function planAppends(
  state: StreamState,
  records: readonly AppendRecord[],
  config: StreamConfig,
  arrivalMs: number,
): Result<PlannedAppend[], StreamError> {
  const planned: PlannedAppend[] = [];
  let current = state;
  let batch: AppendRecord[] = [];
  let batchBytes = 0;
  const flush = (): Result<void, StreamError> => {
    if (batch.length === 0) return ok(undefined);
    const next = planAppend(current, { records: batch }, config, arrivalMs);
    if (!next.ok) return next;
    planned.push(next.value);
    current = next.value.state;
    batch = [];
    batchBytes = 0;
    return ok(undefined);
  };
  for (const record of records) {
    const size = meteredBytes(record);
    if (size > METERED_BYTES_PER_BATCH_MAX) {
      return err(streamError("too_large", `a record must not exceed ${METERED_BYTES_PER_BATCH_MAX} metered bytes`));
    }
    if (batch.length === RECORDS_PER_BATCH_MAX || batchBytes + size > METERED_BYTES_PER_BATCH_MAX) {
      const flushed = flush();
      if (!flushed.ok) return flushed;
    }
    batch.push(record);
    batchBytes += size;
  }
  const flushed = flush();
  return flushed.ok ? ok(planned) : flushed;
}
