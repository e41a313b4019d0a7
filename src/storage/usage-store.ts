/**
 * Finished minutes of usage, in the SQLite of the object that counted them (every StreamObject, BasinObject
 * and the AccountObject). All usage SQL lives here. The table is independent of each object's other tables,
 * so it is created with IF NOT EXISTS rather than under a schema version:
 *
 *   usage_minutes    one row per UTC minute that had usage, written once, when the minute is over
 *                    (usage-ledger.ts); rows older than USAGE_RETENTION_SECS go as new ones come.
 *                      minute_secs         first second of the minute, Unix seconds (key)
 *                      counters            JSON {name: count} (domain/usage.ts names; zeros left out)
 *                      storage_bytes       the object's stored bytes when the row was written; null if it
 *                                          stores no records (basins, the account)
 */
import { addCounters, MINUTE_SECS, USAGE_RETENTION_SECS, type Counters, type MinuteUsage } from "../domain/usage";

export const USAGE_DDL = `CREATE TABLE IF NOT EXISTS usage_minutes (
  minute_secs INTEGER PRIMARY KEY, counters TEXT NOT NULL, storage_bytes INTEGER
)`;

interface UsageRow extends Record<string, SqlStorageValue> {
  minute_secs: number;
  counters: string;
  storage_bytes: number | null;
}

const fromRow = (row: UsageRow): MinuteUsage =>
  ({ minuteSecs: row.minute_secs, counters: JSON.parse(row.counters) as Counters, storageBytes: row.storage_bytes });

export class UsageStore {
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    this.sql.exec(USAGE_DDL);
  }

  /**
   * Stores a finished minute. A row for the same minute exists only if the clock stepped back across a
   * restart; the counts then add up. Minutes past retention are dropped in the same breath.
   */
  write(minute: MinuteUsage): void {
    // A write can land right after a deleteAll wiped the table (a stream deleted mid-minute): recreate it.
    this.migrate();
    const existing = this.sql.exec<UsageRow>("SELECT * FROM usage_minutes WHERE minute_secs = ?", minute.minuteSecs).toArray()[0];
    const counters = existing ? addCounters(fromRow(existing).counters, minute.counters) : minute.counters;
    this.sql.exec(
      "INSERT OR REPLACE INTO usage_minutes (minute_secs, counters, storage_bytes) VALUES (?, ?, ?)",
      minute.minuteSecs, JSON.stringify(counters), minute.storageBytes ?? existing?.storage_bytes ?? null,
    );
    this.sql.exec("DELETE FROM usage_minutes WHERE minute_secs < ?", minute.minuteSecs - USAGE_RETENTION_SECS);
  }

  /** Stored minutes that overlap `[startSecs, endSecs]`, in time order. */
  minutes(startSecs: number, endSecs: number): MinuteUsage[] {
    return this.sql.exec<UsageRow>(
      "SELECT * FROM usage_minutes WHERE minute_secs > ? AND minute_secs <= ? ORDER BY minute_secs",
      startSecs - MINUTE_SECS, endSecs,
    ).toArray().map(fromRow);
  }

  /** The last storage sample of a minute wholly before `startSecs`; null if none is kept. */
  storageBefore(startSecs: number): number | null {
    return this.sql.exec<{ storage_bytes: number }>(
      `SELECT storage_bytes FROM usage_minutes WHERE minute_secs <= ? AND storage_bytes IS NOT NULL
       ORDER BY minute_secs DESC LIMIT 1`, startSecs - MINUTE_SECS,
    ).toArray()[0]?.storage_bytes ?? null;
  }
}
