/**
 * Read rules (S2-API §10): where a read starts relative to the tail, when it is 416, and which records fit its
 * limits. Pure: the stream object supplies the tail and the records.
 */
import { err, ok, type Result } from "../lib/result";
import { invalid, type StreamError } from "./errors";
import { METERED_BYTES_PER_BATCH_MAX, RECORDS_PER_BATCH_MAX, UNARY_WAIT_SECS_MAX } from "./limits";
import { meteredBytes } from "./metering";
import type { ReadLimits, ReadRequest, ReadStart, SequencedRecord, StreamPosition } from "./types";

/** A timestamp start at or past `until` can return nothing (S2-API §10.1); rejected before the stream is touched. */
export function checkReadRequest(request: ReadRequest): Result<ReadRequest, StreamError> {
  const { start, limits } = request;
  if (start.kind === "timestamp" && limits.until !== undefined && start.timestamp >= limits.until) {
    return err(invalid("timestamp must be less than until"));
  }
  return ok(request);
}

/** Unary reads are capped at one batch and one minute of waiting; larger asks are clamped, not refused. */
export function capUnaryRequest(request: ReadRequest): ReadRequest {
  return {
    ...request,
    limits: {
      ...request.limits,
      count: Math.min(request.limits.count ?? RECORDS_PER_BATCH_MAX, RECORDS_PER_BATCH_MAX),
      bytes: Math.min(request.limits.bytes ?? METERED_BYTES_PER_BATCH_MAX, METERED_BYTES_PER_BATCH_MAX),
    },
    waitSecs: Math.min(request.waitSecs ?? 0, UNARY_WAIT_SECS_MAX),
  };
}

/** "Can follow" (S2-API §10.2): unbounded, or willing to wait for new records. */
export function canFollow(request: ReadRequest): boolean {
  const { count, bytes, until } = request.limits;
  return (count === undefined && bytes === undefined && until === undefined) || (request.waitSecs ?? 0) > 0;
}

/** Where a read starts: a seq num, or a timestamp the storage must look up (the first record at or after it). */
export type ResolvedStart = { kind: "seq_num"; seqNum: number } | { kind: "timestamp"; timestamp: number };

/** Applies clamp and the 416 rules that can be decided from the tail alone. */
export function resolveReadStart(request: ReadRequest, tail: StreamPosition): Result<ResolvedStart, StreamError> {
  const start: ReadStart = request.start;
  let seqNum: number;
  switch (start.kind) {
    case "timestamp":
      if (start.timestamp <= tail.timestamp) return ok({ kind: "timestamp", timestamp: start.timestamp });
      if (!request.clamp) return err({ code: "unwritten", tail });
      seqNum = tail.seqNum;
      break;
    case "tail_offset":
      seqNum = Math.max(0, tail.seqNum - start.tailOffset);
      break;
    case "seq_num":
      if (start.seqNum > tail.seqNum && !request.clamp) return err({ code: "unwritten", tail });
      seqNum = Math.min(start.seqNum, tail.seqNum);
      break;
  }
  if (seqNum === tail.seqNum && !canFollow(request)) return err({ code: "unwritten", tail });
  return ok({ kind: "seq_num", seqNum });
}

/** Every record is at least this many metered bytes (metering.ts). */
const METERED_BYTES_MIN = 8;

/** Tracks a read's budget across batches: records and metered bytes used, and whether `until` was hit. */
export class ReadBudget {
  #count = 0;
  #bytes = 0;
  #exhausted = false;

  constructor(private readonly limits: ReadLimits) {}

  /** Whether the record fits; once one does not, none after it do either. */
  admit(record: SequencedRecord): boolean {
    if (this.#exhausted) return false;
    const { count, bytes, until } = this.limits;
    const size = meteredBytes(record);
    if ((count !== undefined && this.#count + 1 > count) || (bytes !== undefined && this.#bytes + size > bytes) ||
      (until !== undefined && record.timestamp >= until)) {
      this.#exhausted = true;
      return false;
    }
    this.#count += 1;
    this.#bytes += size;
    return true;
  }

  /** True once a record was refused, or when no record could fit any more. */
  get exhausted(): boolean {
    const { count, bytes } = this.limits;
    return this.#exhausted || (count !== undefined && this.#count >= count) || (bytes !== undefined && bytes - this.#bytes < METERED_BYTES_MIN);
  }

  /** Records and metered bytes used so far. */
  get used(): { count: number; bytes: number } {
    return { count: this.#count, bytes: this.#bytes };
  }

  /** The limits still open, for the next read of the same session. */
  remaining(): ReadLimits {
    const { count, bytes, until } = this.limits;
    const left: ReadLimits = {};
    if (count !== undefined) left.count = count - this.#count;
    if (bytes !== undefined) left.bytes = bytes - this.#bytes;
    if (until !== undefined) left.until = until;
    return left;
  }
}

/** Why a read batch stopped: the read's own limits, the size of one batch, or the end of what is written. */
export type ReadEnd = "limit" | "batch_full" | "caught_up";

/** The size of one read batch. */
export interface BatchSize {
  records: number;
  /** Metered bytes. */
  bytes: number;
}

/**
 * Collects one read batch from records offered in seq num order, wherever they are stored: it skips what
 * lies before the read's cursor and stops at the batch size or the read's budget.
 */
export class BatchCollector {
  readonly records: SequencedRecord[] = [];
  #bytes = 0;
  #end: ReadEnd | undefined;

  constructor(private cursor: number, private readonly budget: ReadBudget, private readonly batchMax: BatchSize) {}

  /** The next seq num the batch wants. */
  get next(): number {
    return this.cursor;
  }

  /** What the batch may still take, by the batch size and the read's budget (metered bytes). */
  get room(): BatchSize {
    const left = this.budget.remaining();
    return {
      records: Math.min(this.batchMax.records - this.records.length, left.count ?? Infinity),
      bytes: Math.min(this.batchMax.bytes - this.#bytes, left.bytes ?? Infinity),
    };
  }

  /**
   * Completes the batch if no record could fit any more, or, once it holds a record, if the next one is
   * likely (`likelyBytes`, an estimate) not to fit its size. Offering is what otherwise completes it, so a
   * caller that must fetch records first (from R2) asks this before fetching ones it could not take. A wrong
   * estimate costs a smaller batch or a wasted fetch, never a record: the next batch starts where this ended.
   */
  completeIfFull(likelyBytes = METERED_BYTES_MIN): void {
    if (this.#end) return;
    const bytesLeft = this.batchMax.bytes - this.#bytes;
    if (this.records.length >= this.batchMax.records || bytesLeft < METERED_BYTES_MIN || (this.records.length > 0 && bytesLeft < likelyBytes)) {
      this.#end = "batch_full";
    } else if (this.budget.exhausted) this.#end = "limit";
  }

  /** Set once the batch is complete; undefined while it takes more. */
  get end(): ReadEnd | undefined {
    return this.#end;
  }

  /** Offers records in seq num order; returns false once the batch is complete. */
  offer(records: Iterable<SequencedRecord>): boolean {
    for (const record of records) {
      if (this.#end) return false;
      if (record.seqNum < this.cursor) continue;
      const size = meteredBytes(record);
      if (this.records.length + 1 > this.batchMax.records || this.#bytes + size > this.batchMax.bytes) {
        this.#end = "batch_full";
        return false;
      }
      if (!this.budget.admit(record)) {
        this.#end = "limit";
        return false;
      }
      this.records.push(record);
      this.#bytes += size;
      this.cursor = record.seqNum + 1;
    }
    return !this.#end;
  }

  /** Skips to `seqNum` (records before it are gone: trimmed, expired or past a sealed block). */
  skipTo(seqNum: number): void {
    this.cursor = Math.max(this.cursor, seqNum);
  }

  finish(end: ReadEnd): void {
    this.#end ??= end;
  }
}
