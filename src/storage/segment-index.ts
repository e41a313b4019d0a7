/**
 * The index of a stream's sealed segments, in its StreamObject's SQLite (schema version 4 of
 * stream-store.ts). Reads find which segment and which of its blocks hold a seq num or a timestamp here, then
 * fetch just those bytes from R2 (segment-codec.ts).
 *
 *   segments         one row per sealed segment, immutable until retention, trim or deletion drops it.
 *                      start_seq_num       first seq num in the segment (key)
 *                      end_seq_num         one past its last seq num
 *                      last_timestamp      timestamp of its last record (orders like the key)
 *                      object_key          its R2 key (segment-store.ts)
 *                      size_bytes          the object's size
 *                      expires_at_ms       when its last block expires; null if any block never does
 *                      blocks              JSON SegmentBlock[]: one per former tail row
 *                      sealed_at_ms        when the seal committed
 *
 * Sealing moves tail rows into a segment in ONE transaction (insert this row, delete those rows), so at every
 * moment each live seq num is in exactly one place: a tail row or a segment.
 */
import type { SegmentBlockRef } from "./segment-codec";

export const SEGMENTS_DDL = `
  CREATE TABLE segments (
    start_seq_num INTEGER PRIMARY KEY, end_seq_num INTEGER NOT NULL, last_timestamp INTEGER NOT NULL,
    object_key TEXT NOT NULL, size_bytes INTEGER NOT NULL, expires_at_ms INTEGER, blocks TEXT NOT NULL,
    sealed_at_ms INTEGER NOT NULL
  );
  CREATE INDEX segments_by_timestamp ON segments (last_timestamp);
`;

/**
 * Blocks (former tail rows) per segment, at most. The index row keeps every block as JSON, about 120 bytes
 * each and at most ~170 with 16-digit numbers, and a row may not exceed 2 MB (PLATFORM.md §1): 4096 blocks
 * stay under 0.7 MB. Without a cap, a tail of many tiny appends (a backlog after R2 was down, say) sealed by
 * bytes alone would put ~8 MiB / ~20 bytes = 400k blocks in one index row: a row the platform refuses, and a
 * seal that fails on every retry while the tail stays full.
 */
export const SEGMENT_BLOCKS_MAX = 4096;

/** A block as the index keeps it: where it is, what it holds, when it expires. */
export interface SegmentBlock extends SegmentBlockRef {
  endSeqNum: number;
  /** null: never expires. */
  expiresAtMs: number | null;
}

export interface Segment {
  startSeqNum: number;
  endSeqNum: number;
  lastTimestamp: number;
  objectKey: string;
  sizeBytes: number;
  expiresAtMs: number | null;
  blocks: SegmentBlock[];
}

interface SegmentRow extends Record<string, SqlStorageValue> {
  start_seq_num: number;
  end_seq_num: number;
  last_timestamp: number;
  object_key: string;
  size_bytes: number;
  expires_at_ms: number | null;
  blocks: string;
}

const fromRow = (row: SegmentRow): Segment => ({
  startSeqNum: row.start_seq_num,
  endSeqNum: row.end_seq_num,
  lastTimestamp: row.last_timestamp,
  objectKey: row.object_key,
  sizeBytes: row.size_bytes,
  expiresAtMs: row.expires_at_ms,
  blocks: JSON.parse(row.blocks) as SegmentBlock[],
});

export class SegmentIndex {
  constructor(private readonly sql: SqlStorage) {}

  insert(segment: Segment, sealedAtMs: number): void {
    this.sql.exec(
      `INSERT INTO segments (start_seq_num, end_seq_num, last_timestamp, object_key, size_bytes, expires_at_ms, blocks, sealed_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      segment.startSeqNum, segment.endSeqNum, segment.lastTimestamp, segment.objectKey, segment.sizeBytes,
      segment.expiresAtMs, JSON.stringify(segment.blocks), sealedAtMs,
    );
  }

  /** The segment holding `seqNum` or, if none does, the first one after it. */
  segmentFrom(seqNum: number): Segment | undefined {
    const row = this.sql.exec<SegmentRow>(
      "SELECT * FROM segments WHERE end_seq_num > ? ORDER BY start_seq_num LIMIT 1", seqNum,
    ).toArray()[0];
    return row && fromRow(row);
  }

  /** The first segment whose last timestamp is at or after `timestamp` (timestamps never decrease). */
  segmentAtTimestamp(timestamp: number, fromSeqNum: number): Segment | undefined {
    const row = this.sql.exec<SegmentRow>(
      "SELECT * FROM segments WHERE last_timestamp >= ? AND end_seq_num > ? ORDER BY last_timestamp, start_seq_num LIMIT 1",
      timestamp, fromSeqNum,
    ).toArray()[0];
    return row && fromRow(row);
  }

  /** Segments every record of which is below `seqNum` or expired by `nowMs`: retention and trim drop these. */
  dead(trimPoint: number, nowMs: number): Segment[] {
    return this.sql.exec<SegmentRow>(
      "SELECT * FROM segments WHERE end_seq_num <= ? OR expires_at_ms <= ?", trimPoint, nowMs,
    ).toArray().map(fromRow);
  }

  delete(startSeqNum: number): void {
    this.sql.exec("DELETE FROM segments WHERE start_seq_num = ?", startSeqNum);
  }

  /** The append batch holding `seqNum`, from the block that was its row; undefined if no segment has it. */
  batchAt(seqNum: number): { start: number; end: number } | undefined {
    const segment = this.segmentFrom(seqNum);
    const block = segment?.blocks.find((b) => b.startSeqNum <= seqNum && b.endSeqNum > seqNum);
    return block && { start: block.startSeqNum, end: block.endSeqNum };
  }

  /** When the next segment expires entirely (ms); null if none will. */
  nextExpiryMs(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT min(expires_at_ms) AS at FROM segments").one().at;
  }

  keys(): Set<string> {
    return new Set(this.sql.exec<{ object_key: string }>("SELECT object_key FROM segments").toArray().map((r) => r.object_key));
  }

  /** Total sealed bytes, for metrics and bounds. */
  sizeBytes(): number {
    return this.sql.exec<{ total: number | null }>("SELECT sum(size_bytes) AS total FROM segments").one().total ?? 0;
  }
}
