/**
 * Reads one batch of a stream's records wherever they live: sealed segments in R2 first (the older
 * records), then the SQLite tail. Every place is consulted afresh after each await, so a seal that moves
 * rows into a segment while a read waits on R2 never opens a gap: at any synchronous moment each seq num is
 * either in a tail row or in an indexed segment (sealer.ts).
 */
import { BatchCollector, type BatchSize, type ReadBudget, type ReadEnd } from "../domain/read";
import type { SequencedRecord } from "../domain/types";
import { decodeSegmentBlock } from "../storage/segment-codec";
import type { Segment, SegmentBlock, SegmentIndex } from "../storage/segment-index";
import type { SegmentStore } from "../storage/segment-store";
import type { StreamStore } from "../storage/stream-store";

/** One ranged get fetches consecutive blocks up to this many bytes: few round trips, bounded memory. */
const FETCH_BYTES_MAX = 2 * 1024 * 1024;

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

  async read(fromSeqNum: number, trimPoint: number, nowMs: number, budget: ReadBudget, batchMax: BatchSize): Promise<RecordsRead> {
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
  }

  /** Seq num of the first live record at or after `timestamp`, sealed or not; undefined if none. */
  async seqNumAtTimestamp(timestamp: number, trimPoint: number, nowMs: number): Promise<number | undefined> {
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
        const found = decodeSegmentBlock(bytes).find((r) => r.seqNum >= trimPoint && r.timestamp >= timestamp);
        if (found) return found.seqNum;
      }
      after = segment.endSeqNum;
    }
    return this.store.seqNumAtTimestamp(timestamp, trimPoint, nowMs);
  }

  async #collectSegment(segment: Segment, collector: BatchCollector, nowMs: number): Promise<void> {
    const wanted = segment.blocks.filter((block) => block.endSeqNum > collector.next);
    let i = 0;
    while (i < wanted.length && !collector.end) {
      if (expired(wanted[i]!, nowMs)) {
        collector.skipTo(wanted[i++]!.endSeqNum);
        continue;
      }
      const run = [wanted[i]!];
      while (i + run.length < wanted.length && !expired(wanted[i + run.length]!, nowMs) &&
        sizeOf(run) + wanted[i + run.length]!.size <= FETCH_BYTES_MAX) run.push(wanted[i + run.length]!);
      const first = run[0]!;
      const bytes = await this.#fetch(segment, first.offset, sizeOf(run));
      if (!bytes) return; // the segment went (retention or trim) while we waited: re-plan from the index
      for (const block of run) {
        const start = block.offset - first.offset;
        if (!collector.offer(decodeSegmentBlock(bytes.subarray(start, start + block.size)))) return;
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
      throw error;
    }
  }
}

const expired = (block: SegmentBlock, nowMs: number) => block.expiresAtMs !== null && block.expiresAtMs <= nowMs;
const sizeOf = (blocks: readonly SegmentBlock[]) => blocks.reduce((total, block) => total + block.size, 0);
