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
import type { ReadBudget } from "../domain/read";
import type { SequencedRecord } from "../domain/types";
import { meteredBytes } from "../domain/metering";
import { decodeRecordBatch, encodeRecordBatch } from "../domain/record-codec";
import { LIFECYCLE_DDL, LIFECYCLE_WATCHED_DDL } from "./lifecycle-store";

const SCHEMA_VERSION = 3;

/** DO SQLite refuses rows over 2 MB; local workerd allows ~8 MiB, so the bound must be ours (PLATFORM.md §1). */
export const ROW_BYTES_MAX = 2_000_000;

/** Rows decoded per query while reading: enough for most batches, few enough to stop early. */
const READ_ROWS_PER_QUERY = 32;

export interface BatchSize {
  records: number;
  /** Metered bytes. */
  bytes: number;
}

/** Why a read stopped: its own limits, the size of one batch, or the end of what is written. */
export type ReadEnd = "limit" | "batch_full" | "caught_up";

export interface RecordsRead {
  records: SequencedRecord[];
  end: ReadEnd;
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
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
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
      "UPDATE stream_meta SET next_seq_num = ?, last_timestamp = ?, fencing_token = ?, trim_point = ?",
      state.tail.seqNum, state.tail.timestamp, state.fencingToken, state.trimPoint,
    );
    this.sql.exec("DELETE FROM record_batches WHERE end_seq_num <= ?", state.trimPoint);
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
      "INSERT INTO record_batches (start_seq_num, end_seq_num, last_timestamp, expires_at_ms, records) VALUES (?, ?, ?, ?, ?)",
      records[0]!.seqNum, last.seqNum + 1, last.timestamp, expiresAtMs, packed,
    );
  }

  /** Drops every record: rows a fork copied before a crash are invisible without stream_meta, and go here. */
  clearRecords(): void {
    this.sql.exec("DELETE FROM record_batches");
  }

  /**
   * Records from `fromSeqNum` on, skipping trimmed and expired ones, until the budget refuses one (`limit`),
   * the batch is full (`batch_full`), or nothing is left (`caught_up`).
   */
  readRecords(fromSeqNum: number, trimPoint: number, nowMs: number, budget: ReadBudget, batchMax: BatchSize): RecordsRead {
    const records: SequencedRecord[] = [];
    let batchBytes = 0;
    let cursor = Math.max(fromSeqNum, trimPoint);
    for (;;) {
      const rows = this.sql.exec<BatchRow & { end_seq_num: number }>(
        `SELECT start_seq_num, end_seq_num, records FROM record_batches
         WHERE end_seq_num > ? AND (expires_at_ms IS NULL OR expires_at_ms > ?)
         ORDER BY start_seq_num LIMIT ?`,
        cursor, nowMs, READ_ROWS_PER_QUERY,
      ).toArray();
      if (rows.length === 0) return { records, end: "caught_up" };
      for (const row of rows) {
        for (const record of decodeRecordBatch(new Uint8Array(row.records), row.start_seq_num)) {
          if (record.seqNum < cursor) continue;
          const size = meteredBytes(record);
          if (records.length + 1 > batchMax.records || batchBytes + size > batchMax.bytes) return { records, end: "batch_full" };
          if (!budget.admit(record)) return { records, end: "limit" };
          records.push(record);
          batchBytes += size;
        }
        cursor = row.end_seq_num;
      }
    }
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
}
