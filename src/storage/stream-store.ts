/**
 * SQLite storage of one stream, inside its StreamObject. All SQL of the stream lives here; callers get domain
 * values, never rows. Every method is synchronous so the object can check and commit an append in one
 * transactionSync with no await in between.
 *
 * Schema (version SCHEMA_VERSION; bump it and add a guarded step to migrate() to change it):
 *
 *   schema_version   one row: (version) of the DDL below.
 *   stream_meta      one row per stream, updated on every append.
 *                      basin, stream       the object's own names (ctx.id.name can be missing in a cold alarm)
 *                      created_at_ms       ms since the Unix epoch
 *                      config              JSON of the resolved StreamConfig
 *                      next_seq_num        the tail's seq num: records ever appended
 *                      last_timestamp      the tail's timestamp: of the last record, 0 before the first
 *                      fencing_token       "" until a fence command sets one
 *                      trim_point          records below this seq num are trimmed
 *   record_batches   one row per append batch, immutable until trimmed or expired.
 *                      start_seq_num       seq num of the first record (key)
 *                      end_seq_num         one past the last record
 *                      last_timestamp      timestamp of the last record; timestamps never decrease along
 *                                          the stream, so this column orders like the key (timestamp index)
 *                      expires_at_ms       when retention drops the batch; null for infinite retention
 *                      records             packed records, see record-codec.ts
 *                      written_at_ms       when the batch was appended (since version 4; sealing by age)
 *   stream_meta.last_append_ms               when the last batch was appended (since version 4;
 *                                            delete-on-empty)
 *   segments         (since version 4) the index of sealed R2 segments: segment-index.ts
 *
 * Since version 2, the Durable Streams state of the stream (storage/lifecycle-store.ts); a stream created
 * through S2 and never touched through Durable Streams has no rows here (domain/lifecycle.ts defaults):
 *
 *   stream_lifecycle one row, written on create and with every Durable Streams append or close.
 *                      content_type        as given at creation, echoed verbatim
 *                      ttl_secs            sliding idle window in seconds; null for none
 *                      expires_at_ms       absolute expiry, ms since the Unix epoch; null for none
 *                      expires_at_text     that instant as the client sent it (HEAD echoes it)
 *                      last_access_ms      last read or write that reached the object (sliding TTL)
 *                      closed              1 once closed; never goes back to 0
 *                      closed_by           JSON ProducerClaim of the append that closed it; null if none
 *                      last_stream_seq     last accepted Stream-Seq token; null before the first
 *                      fork_origin         JSON ForkOrigin (source name, fork point); null unless a fork
 *                      soft_deleted        1 once deleted while forks still referenced it
 *                      incarnation         random per creation; part of every ETag
 *                      watched             1 while a subscription links the stream (since version 3): each
 *                                          append then reports its tail to the basin's SubscriptionObject
 *   producers        one row per idempotent producer id, updated by each of its accepted batches.
 *                      producer_id         the Producer-Id header (key)
 *                      epoch, last_seq     the producer's current epoch and last accepted Producer-Seq
 *                      updated_at_ms       last accepted batch (for idle-producer cleanup)
 *   fork_refs        one row per fork created from this stream and not yet deleted or expired.
 *                      fork_id             `{fork name}@{fork incarnation}` (key), so re-acquiring is a no-op
 *                      created_at_ms       when the fork took its reference
 */
import type { StreamState } from "../domain/append";
import type { StreamConfig } from "../domain/config";
import type { BatchCollector } from "../domain/read";
import type { SequencedRecord } from "../domain/types";
import { decodeRecordBatch, encodeRecordBatch } from "../domain/record-codec";
import { LIFECYCLE_DDL, LIFECYCLE_WATCHED_DDL } from "./lifecycle-store";
import type { SegmentBlockInput } from "./segment-codec";
import { SEGMENTS_DDL } from "./segment-index";

const SCHEMA_VERSION = 4;

/** DO SQLite refuses rows over 2 MB; local workerd allows ~8 MiB, so the bound must be ours (PLATFORM.md §1). */
export const ROW_BYTES_MAX = 2_000_000;

/** Rows decoded per query while reading: enough for most batches, few enough to stop early. */
const READ_ROWS_PER_QUERY = 32;

/** The tail as sealing sees it. */
export interface TailStats {
  rows: number;
  /** Packed bytes. */
  bytes: number;
  /** When the oldest tail row was written (ms); null when the tail is empty. */
  oldestWrittenMs: number | null;
}

export interface StreamMeta {
  basin: string;
  stream: string;
  createdAtMs: number;
  config: StreamConfig;
  state: StreamState;
}

interface MetaRow extends Record<string, SqlStorageValue> {
  basin: string;
  stream: string;
  created_at_ms: number;
  config: string;
  next_seq_num: number;
  last_timestamp: number;
  fencing_token: string;
  trim_point: number;
}

interface BatchRow extends Record<string, SqlStorageValue> {
  start_seq_num: number;
  records: ArrayBuffer;
}

export class StreamStore {
  /**
   * Mirror of the tail's size, kept up to date by every write here, because sealing and the hard bound look
   * at it on each append and recounting is a scan of every row. Undefined until first counted.
   */
  #tail: TailStats | undefined;

  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    // Also called after deleteAll() wiped the object (StreamObject.destroy): a mirror taken before would make
    // a recreated stream look full (refusing appends as if its tail were at the bound) and never empty.
    this.#tail = undefined;
    this.sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const current = this.sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
    if (current >= SCHEMA_VERSION) return;
    // Each step brings a stream written by an older version one version forward; a new one takes all.
    if (current < 1) this.sql.exec(`
      CREATE TABLE stream_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        basin TEXT NOT NULL, stream TEXT NOT NULL, created_at_ms INTEGER NOT NULL, config TEXT NOT NULL,
        next_seq_num INTEGER NOT NULL, last_timestamp INTEGER NOT NULL,
        fencing_token TEXT NOT NULL, trim_point INTEGER NOT NULL
      );
      CREATE TABLE record_batches (
        start_seq_num INTEGER PRIMARY KEY, end_seq_num INTEGER NOT NULL, last_timestamp INTEGER NOT NULL,
        expires_at_ms INTEGER, records BLOB NOT NULL
      );
      CREATE INDEX record_batches_by_timestamp ON record_batches (last_timestamp);
    `);
    if (current < 2) this.sql.exec(LIFECYCLE_DDL);
    if (current < 3) this.sql.exec(LIFECYCLE_WATCHED_DDL);
    if (current < 4) {
      this.sql.exec(SEGMENTS_DDL);
      this.sql.exec("ALTER TABLE record_batches ADD COLUMN written_at_ms INTEGER NOT NULL DEFAULT 0");
      this.sql.exec("ALTER TABLE stream_meta ADD COLUMN last_append_ms INTEGER NOT NULL DEFAULT 0");
    }
    this.sql.exec("DELETE FROM schema_version");
    this.sql.exec("INSERT INTO schema_version (version) VALUES (?)", SCHEMA_VERSION);
  }

  loadMeta(): StreamMeta | undefined {
    const row = this.sql.exec<MetaRow>("SELECT * FROM stream_meta").toArray()[0];
    if (!row) return undefined;
    return {
      basin: row.basin,
      stream: row.stream,
      createdAtMs: row.created_at_ms,
      config: JSON.parse(row.config) as StreamConfig,
      state: {
        tail: { seqNum: row.next_seq_num, timestamp: row.last_timestamp },
        fencingToken: row.fencing_token,
        trimPoint: row.trim_point,
      },
    };
  }

  createMeta(meta: StreamMeta): void {
    const { state } = meta;
    this.sql.exec(
      `INSERT INTO stream_meta (id, basin, stream, created_at_ms, config, next_seq_num, last_timestamp, fencing_token, trim_point)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
      meta.basin, meta.stream, meta.createdAtMs, JSON.stringify(meta.config),
      state.tail.seqNum, state.tail.timestamp, state.fencingToken, state.trimPoint,
    );
  }

  saveConfig(config: StreamConfig): void {
    this.sql.exec("UPDATE stream_meta SET config = ?", JSON.stringify(config));
  }

  /** Appends one batch and moves the tail; trimmed batches that lie wholly below the trim point go at once. */
  appendBatch(records: readonly SequencedRecord[], state: StreamState, expiresAtMs: number | null): void {
    this.insertBatch(records, expiresAtMs);
    this.sql.exec(
      "UPDATE stream_meta SET next_seq_num = ?, last_timestamp = ?, fencing_token = ?, trim_point = ?, last_append_ms = ?",
      state.tail.seqNum, state.tail.timestamp, state.fencingToken, state.trimPoint, Date.now(),
    );
    // A stream never trimmed (almost all) has nothing below its trim point; the key bound lets SQLite
    // range-scan instead of reading every row.
    if (state.trimPoint > 0) this.#deleteRowsWhere("start_seq_num < ?1 AND end_seq_num <= ?1", state.trimPoint);
  }

  /**
   * One row of records with consecutive seq nums, as they are: no tail update, no trim. Forks copy their
   * source's records with this before their stream_meta row exists (see clearRecords).
   */
  insertBatch(records: readonly SequencedRecord[], expiresAtMs: number | null): void {
    const packed = encodeRecordBatch(records);
    if (packed.length > ROW_BYTES_MAX) throw new RangeError(`packed batch of ${packed.length} bytes exceeds the row limit`);
    const last = records[records.length - 1]!;
    this.sql.exec(
      "INSERT INTO record_batches (start_seq_num, end_seq_num, last_timestamp, expires_at_ms, records, written_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
      records[0]!.seqNum, last.seqNum + 1, last.timestamp, expiresAtMs, packed, Date.now(),
    );
    if (this.#tail) {
      this.#tail = { rows: this.#tail.rows + 1, bytes: this.#tail.bytes + packed.length, oldestWrittenMs: this.#tail.oldestWrittenMs ?? Date.now() };
    }
  }

  /** Drops every record: rows a fork copied before a crash are invisible without stream_meta, and go here. */
  clearRecords(): void {
    this.sql.exec("DELETE FROM record_batches");
    this.#tail = undefined;
  }

  /** Seq num of the first live record whose timestamp is at or after `timestamp`; undefined if none. */
  seqNumAtTimestamp(timestamp: number, trimPoint: number, nowMs: number): number | undefined {
    const rows = this.sql.exec<BatchRow>(
      `SELECT start_seq_num, records FROM record_batches
       WHERE last_timestamp >= ? AND end_seq_num > ? AND (expires_at_ms IS NULL OR expires_at_ms > ?)
       ORDER BY last_timestamp, start_seq_num LIMIT 1`,
      timestamp, trimPoint, nowMs,
    ).toArray();
    const row = rows[0];
    if (!row) return undefined;
    const record = decodeRecordBatch(new Uint8Array(row.records), row.start_seq_num)
      .find((r) => r.seqNum >= trimPoint && r.timestamp >= timestamp);
    return record?.seqNum;
  }

  /** The append batch that holds `seqNum`, as [start, end) seq nums; undefined if none (trimmed or unwritten). */
  batchAt(seqNum: number): { start: number; end: number } | undefined {
    const row = this.sql.exec<{ start_seq_num: number; end_seq_num: number }>(
      "SELECT start_seq_num, end_seq_num FROM record_batches WHERE start_seq_num <= ? AND end_seq_num > ? ORDER BY start_seq_num DESC LIMIT 1",
      seqNum, seqNum,
    ).toArray()[0];
    return row ? { start: row.start_seq_num, end: row.end_seq_num } : undefined;
  }

  // Sealing (stream/sealer.ts) and retention.

  tailStats(): TailStats {
    if (!this.#tail) {
      const row = this.sql.exec<{ rows: number; bytes: number | null; oldest: number | null }>(
        "SELECT count(*) AS rows, sum(length(records)) AS bytes, min(written_at_ms) AS oldest FROM record_batches",
      ).one();
      this.#tail = { rows: row.rows, bytes: row.bytes ?? 0, oldestWrittenMs: row.oldest };
    }
    return this.#tail;
  }

  /** Deletes rows; the size mirror is recounted only if rows actually went. */
  #deleteRowsWhere(condition: string, ...bindings: SqlStorageValue[]): void {
    const cursor = this.sql.exec(`DELETE FROM record_batches WHERE ${condition}`, ...bindings);
    cursor.toArray();
    if (cursor.rowsWritten > 0) this.#tail = undefined;
  }

  /** The oldest tail rows, whole, up to about `bytesTarget` packed bytes and at most `rowsMax` rows (at least one). */
  oldestRows(bytesTarget: number, rowsMax: number): (SegmentBlockInput & { expiresAtMs: number | null })[] {
    const rows: (SegmentBlockInput & { expiresAtMs: number | null })[] = [];
    let bytes = 0;
    let after = -1;
    while (bytes < bytesTarget && rows.length < rowsMax) {
      const page = this.sql.exec<BatchRow & { end_seq_num: number; last_timestamp: number; expires_at_ms: number | null }>(
        `SELECT start_seq_num, end_seq_num, last_timestamp, expires_at_ms, records FROM record_batches
         WHERE start_seq_num > ? ORDER BY start_seq_num LIMIT ?`, after, READ_ROWS_PER_QUERY,
      ).toArray();
      if (page.length === 0) break;
      for (const row of page) {
        if (rows.length > 0 && (bytes + row.records.byteLength > bytesTarget || rows.length >= rowsMax)) return rows;
        rows.push({
          startSeqNum: row.start_seq_num, endSeqNum: row.end_seq_num, lastTimestamp: row.last_timestamp,
          expiresAtMs: row.expires_at_ms, records: new Uint8Array(row.records),
        });
        bytes += row.records.byteLength;
        after = row.start_seq_num;
      }
    }
    return rows;
  }

  /** Whether exactly `count` rows still cover [start, end): nothing in the range was trimmed meanwhile. */
  rowsIntact(startSeqNum: number, endSeqNum: number, count: number): boolean {
    // The key range bounds the scan to the rows being sealed, not the whole tail after them.
    return this.sql.exec<{ n: number }>(
      "SELECT count(*) AS n FROM record_batches WHERE start_seq_num >= ?1 AND start_seq_num < ?2 AND end_seq_num <= ?2",
      startSeqNum, endSeqNum,
    ).one().n === count;
  }

  deleteRows(startSeqNum: number, endSeqNum: number): void {
    this.#deleteRowsWhere("start_seq_num >= ? AND end_seq_num <= ?", startSeqNum, endSeqNum);
  }

  /** Retention: rows every record of which has expired. */
  deleteExpired(nowMs: number): void {
    this.#deleteRowsWhere("expires_at_ms <= ?", nowMs);
  }

  /** When the next tail row expires (ms); null if none will. */
  nextExpiryMs(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT min(expires_at_ms) AS at FROM record_batches").one().at;
  }

  /** When the stream last took an append (ms); 0 if never since version 4. */
  lastAppendMs(): number {
    return this.sql.exec<{ last_append_ms: number }>("SELECT last_append_ms FROM stream_meta").toArray()[0]?.last_append_ms ?? 0;
  }

  /**
   * Offers the tail rows from the collector's cursor on, below `beforeSeqNum` (where the next sealed segment
   * starts, if the cursor is before one), skipping expired rows. Synchronous: no seal can move rows mid-way.
   */
  collectTail(collector: BatchCollector, nowMs: number, beforeSeqNum = Number.MAX_SAFE_INTEGER): void {
    for (;;) {
      const rows = this.sql.exec<BatchRow & { end_seq_num: number }>(
        `SELECT start_seq_num, end_seq_num, records FROM record_batches
         WHERE end_seq_num > ? AND start_seq_num < ? AND (expires_at_ms IS NULL OR expires_at_ms > ?)
         ORDER BY start_seq_num LIMIT ?`,
        collector.next, beforeSeqNum, nowMs, READ_ROWS_PER_QUERY,
      ).toArray();
      if (rows.length === 0) return;
      for (const row of rows) {
        if (!collector.offer(decodeRecordBatch(new Uint8Array(row.records), row.start_seq_num))) return;
        collector.skipTo(row.end_seq_num);
      }
    }
  }
}
