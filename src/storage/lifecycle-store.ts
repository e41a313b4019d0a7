/**
 * SQLite storage of a stream's Durable Streams state (domain/lifecycle.ts, domain/producer.ts), next to its
 * records in the same object, so the stream's single writer checks and commits both in one transactionSync.
 * The tables are part of the stream's schema (version 2, `watched` since 3); stream-store.ts documents them and runs
 * LIFECYCLE_DDL in its migration. Synchronous throughout, like StreamStore.
 */
import type { ExpiryInstant, ForkOrigin, StreamLifecycle } from "../domain/lifecycle";
import type { ProducerClaim, ProducerState } from "../domain/producer";

/** Version 3: subscriptions mark the streams they link. */
export const LIFECYCLE_WATCHED_DDL = "ALTER TABLE stream_lifecycle ADD COLUMN watched INTEGER NOT NULL DEFAULT 0";

export const LIFECYCLE_DDL = `
  CREATE TABLE stream_lifecycle (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    content_type TEXT NOT NULL, ttl_secs INTEGER, expires_at_ms INTEGER, expires_at_text TEXT,
    last_access_ms INTEGER NOT NULL, closed INTEGER NOT NULL, closed_by TEXT, last_stream_seq TEXT,
    fork_origin TEXT, soft_deleted INTEGER NOT NULL, incarnation TEXT NOT NULL
  );
  CREATE TABLE producers (
    producer_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, last_seq INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL
  );
  CREATE TABLE fork_refs (fork_id TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL);
`;

interface LifecycleRow extends Record<string, SqlStorageValue> {
  content_type: string;
  ttl_secs: number | null;
  expires_at_ms: number | null;
  expires_at_text: string | null;
  last_access_ms: number;
  closed: number;
  closed_by: string | null;
  last_stream_seq: string | null;
  fork_origin: string | null;
  soft_deleted: number;
  incarnation: string;
  watched: number;
}

function fromRow(row: LifecycleRow): StreamLifecycle {
  const expiresAt: ExpiryInstant | null =
    row.expires_at_ms === null ? null : { ms: row.expires_at_ms, text: row.expires_at_text ?? "" };
  return {
    contentType: row.content_type,
    ttlSecs: row.ttl_secs,
    expiresAt,
    lastAccessMs: row.last_access_ms,
    closed: row.closed !== 0,
    closedBy: row.closed_by === null ? null : (JSON.parse(row.closed_by) as ProducerClaim),
    lastStreamSeq: row.last_stream_seq,
    fork: row.fork_origin === null ? null : (JSON.parse(row.fork_origin) as ForkOrigin),
    softDeleted: row.soft_deleted !== 0,
    incarnation: row.incarnation,
    watched: row.watched !== 0,
  };
}

export class LifecycleStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Undefined for a stream that was never touched through Durable Streams. */
  load(): StreamLifecycle | undefined {
    const row = this.sql.exec<LifecycleRow>("SELECT * FROM stream_lifecycle").toArray()[0];
    return row ? fromRow(row) : undefined;
  }

  save(lifecycle: StreamLifecycle): void {
    const { expiresAt } = lifecycle;
    this.sql.exec(
      `INSERT OR REPLACE INTO stream_lifecycle (id, content_type, ttl_secs, expires_at_ms, expires_at_text,
         last_access_ms, closed, closed_by, last_stream_seq, fork_origin, soft_deleted, incarnation, watched)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      lifecycle.contentType, lifecycle.ttlSecs, expiresAt?.ms ?? null, expiresAt?.text ?? null, lifecycle.lastAccessMs,
      lifecycle.closed ? 1 : 0, lifecycle.closedBy === null ? null : JSON.stringify(lifecycle.closedBy),
      lifecycle.lastStreamSeq, lifecycle.fork === null ? null : JSON.stringify(lifecycle.fork),
      lifecycle.softDeleted ? 1 : 0, lifecycle.incarnation, lifecycle.watched ? 1 : 0,
    );
  }

  /** A read or write reached the stream: only the sliding window moves. */
  touch(lastAccessMs: number): void {
    this.sql.exec("UPDATE stream_lifecycle SET last_access_ms = ?", lastAccessMs);
  }

  producer(id: string): ProducerState | undefined {
    const row = this.sql.exec<{ epoch: number; last_seq: number }>(
      "SELECT epoch, last_seq FROM producers WHERE producer_id = ?", id).toArray()[0];
    return row ? { epoch: row.epoch, lastSeq: row.last_seq } : undefined;
  }

  saveProducer(id: string, state: ProducerState, nowMs: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO producers (producer_id, epoch, last_seq, updated_at_ms) VALUES (?, ?, ?, ?)",
      id, state.epoch, state.lastSeq, nowMs,
    );
  }

  /** Idempotent: a fork that retries its acquire holds one reference. */
  addForkRef(forkId: string, nowMs: number): void {
    this.sql.exec("INSERT OR IGNORE INTO fork_refs (fork_id, created_at_ms) VALUES (?, ?)", forkId, nowMs);
  }

  /** Idempotent: releasing a reference twice (or one never held) changes nothing. */
  removeForkRef(forkId: string): void {
    this.sql.exec("DELETE FROM fork_refs WHERE fork_id = ?", forkId);
  }

  hasForkRef(forkId: string): boolean {
    return this.sql.exec("SELECT 1 FROM fork_refs WHERE fork_id = ?", forkId).toArray().length > 0;
  }

  forkRefCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM fork_refs").one().n;
  }
}
