/**
 * Reads one batch of a stream's records wherever they live: sealed segments in R2 first (the older
 * records), then the SQLite tail. Every place is consulted afresh after each await, so a seal that moves
 * rows into a segment while a read waits on R2 never opens a gap: at any synchronous moment each seq num is
 * either in a tail row or in an indexed segment (sealer.ts).
 */
import { streamError, type StreamError } from "../domain/errors";
import { BatchCollector, type BatchSize, type ReadBudget, type ReadEnd } from "../domain/read";
import type { SequencedRecord } from "../domain/types";
import { err, ok, type Result } from "../lib/result";
import { decodeSegmentBlock } from "../storage/segment-codec";
import type { Segment, SegmentBlock, SegmentIndex } from "../storage/segment-index";
import type { SegmentStore } from "../storage/segment-store";
import type { StreamStore } from "../storage/stream-store";

/**
 * One ranged get fetches consecutive blocks up to this many bytes, and no more than the batch can return
 * (see fetchRun): a run sized to the batch is one round trip per batch, and no block is fetched and
 * checksummed only to be dropped.
 */
const FETCH_BYTES_MAX = 2 * 1024 * 1024;

/** R2 failed to return a segment the index still references: the read may be retried. */
class SegmentUnavailable extends Error {}

export interface RecordsRead {
  records: SequencedRecord[];
  end: ReadEnd;
}

export class RecordReader {
  constructor(
    private readonly store: StreamStore,
    private readonly index: SegmentIndex,
    private readonly segments: SegmentStore,
  ) {}

  /** One batch; `unavailable` when R2 fails to return a segment (retryable, nothing was consumed). */
  read(fromSeqNum: number, trimPoint: number, nowMs: number, budget: ReadBudget, batchMax: BatchSize): Promise<Result<RecordsRead, StreamError>> {
    return retryable(async () => {
      const collector = new BatchCollector(Math.max(fromSeqNum, trimPoint), budget, batchMax);
      while (!collector.end) {
        const segment = this.index.segmentFrom(collector.next);
        if (segment && segment.startSeqNum <= collector.next) {
          await this.#collectSegment(segment, collector, nowMs);
          continue;
        }
        this.store.collectTail(collector, nowMs, segment?.startSeqNum);
        if (collector.end) break;
        if (segment) collector.skipTo(segment.startSeqNum);
        else collector.finish("caught_up");
      }
      return { records: collector.records, end: collector.end! };
    });
  }

  /** Seq num of the first live record at or after `timestamp`, sealed or not; undefined if none. */
  seqNumAtTimestamp(timestamp: number, trimPoint: number, nowMs: number): Promise<Result<number | undefined, StreamError>> {
    return retryable(() => this.#seqNumAtTimestamp(timestamp, trimPoint, nowMs));
  }

  async #seqNumAtTimestamp(timestamp: number, trimPoint: number, nowMs: number): Promise<number | undefined> {
    // Segment by segment from the first that reaches the timestamp: one whose blocks from there on have all
    // expired (retention drops it at its next alarm, which may be late) must not hide the live segments after
    // it. Before, the search gave up on the first segment and went to the tail, skipping them.
    let after = trimPoint;
    for (let segment = this.index.segmentAtTimestamp(timestamp, after); segment; segment = this.index.segmentAtTimestamp(timestamp, after)) {
      const block = segment.blocks.find((b) => b.lastTimestamp >= timestamp && b.endSeqNum > trimPoint && !expired(b, nowMs));
      if (block) {
        const bytes = await this.#fetch(segment, block.offset, block.size);
        // Dropped (retention, trim) while we waited: look again from the same place.
        if (!bytes) continue;
        const found = decodeSegmentBlock(bytes, block.startSeqNum).find((r) => r.seqNum >= trimPoint && r.timestamp >= timestamp);
        if (found) return found.seqNum;
      }
      after = segment.endSeqNum;
    }
    return this.store.seqNumAtTimestamp(timestamp, trimPoint, nowMs);
  }

  async #collectSegment(segment: Segment, collector: BatchCollector, nowMs: number): Promise<void> {
    const wanted = segment.blocks.filter((block) => block.endSeqNum > collector.next);
    let i = 0;
    while (i < wanted.length) {
      // Packed bytes per record approximate metered bytes (fetchRun): a block of records larger than what
      // the batch has left is not fetched for a record it would refuse.
      collector.completeIfFull(recordBytes(wanted[i]!));
      if (collector.end) return;
      if (expired(wanted[i]!, nowMs)) {
        collector.skipTo(wanted[i++]!.endSeqNum);
        continue;
      }
      const run = fetchRun(wanted, i, collector.next, collector.room, nowMs);
      const first = run[0]!;
      const bytes = await this.#fetch(segment, first.offset, sizeOf(run));
      if (!bytes) return; // the segment went (retention or trim) while we waited: re-plan from the index
      for (const block of run) {
        const start = block.offset - first.offset;
        if (!collector.offer(decodeSegmentBlock(bytes.subarray(start, start + block.size), block.startSeqNum))) return;
        collector.skipTo(block.endSeqNum);
      }
      i += run.length;
    }
    collector.skipTo(segment.endSeqNum);
  }

  /** The bytes, or undefined when the segment was dropped from the index meanwhile. */
  async #fetch(segment: Segment, offset: number, length: number): Promise<Uint8Array | undefined> {
    try {
      return await this.segments.getRange(segment.objectKey, offset, length);
    } catch (error) {
      if (this.index.segmentFrom(segment.startSeqNum)?.objectKey !== segment.objectKey) return undefined;
      throw new SegmentUnavailable(`segment ${segment.objectKey} could not be read`, { cause: error });
    }
  }
}

/**
 * The blocks from `wanted[i]` on that one ranged get fetches: unexpired and consecutive, at most
 * FETCH_BYTES_MAX, and no more than the batch's room can take. Block sizes are packed bytes, which stay within
 * a few bytes per record of the metered bytes the room counts (record-codec.ts), and the first block counts
 * from the cursor on. A block is left out when even a record of its average size would not fit: it would be
 * fetched and checked for nothing. Misjudging only costs a round trip; the collector takes what fits.
 */
function fetchRun(wanted: readonly SegmentBlock[], i: number, cursor: number, room: BatchSize, nowMs: number): SegmentBlock[] {
  const run = [wanted[i]!];
  let records = 0;
  let bytes = 0;
  let fetchBytes = 0;
  for (let j = i; ; j++) {
    const block = wanted[j]!;
    const from = Math.max(cursor, block.startSeqNum);
    records += block.endSeqNum - from;
    bytes += recordBytes(block) * (block.endSeqNum - from);
    fetchBytes += block.size;
    const next = wanted[j + 1];
    if (!next || expired(next, nowMs) || fetchBytes + next.size > FETCH_BYTES_MAX || records >= room.records) return run;
    if (bytes + recordBytes(next) > room.bytes) return run;
    run.push(next);
  }
}

/** Runs a read, turning a failed R2 get into the retryable `unavailable`. */
async function retryable<T>(read: () => Promise<T>): Promise<Result<T, StreamError>> {
  try {
    return ok(await read());
  } catch (error) {
    if (!(error instanceof SegmentUnavailable)) throw error;
    console.error(error.message, error.cause);
    return err(streamError("unavailable", "object storage is unavailable; retry the read"));
  }
}

const expired = (block: SegmentBlock, nowMs: number) => block.expiresAtMs !== null && block.expiresAtMs <= nowMs;
/** A block's average bytes per record: what fetching it for one more record is likely to cost the batch. */
const recordBytes = (block: SegmentBlock) => block.size / (block.endSeqNum - block.startSeqNum);
const sizeOf = (blocks: readonly SegmentBlock[]) => blocks.reduce((total, block) => total + block.size, 0);
