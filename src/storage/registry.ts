/**
 * Name-keyed registries of the control plane: basins (in the AccountObject) and streams (in each
 * BasinObject). Both list the same way (S2-API §5): byte-wise name order (SQLite's BINARY collation compares
 * UTF-8 bytes), names that start with `prefix` and sort strictly after `start_after`, `has_more` from one
 * extra row.
 *
 * Tables (version 1):
 *   basins    name (key), created_at_ms, deleted_at_ms (null unless deleting), location (null if none asked),
 *             config (JSON BasinConfig), create_fingerprint (request token + requested config, null if none)
 *   streams   name (key), created_at_ms, deleted_at_ms, create_fingerprint
 */
import type { ListPage, ListQuery } from "../domain/resources";

export type RegistryTable = "basins" | "streams";

const DDL: Record<RegistryTable, string> = {
  basins: `CREATE TABLE IF NOT EXISTS basins (
    name TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, deleted_at_ms INTEGER, location TEXT,
    config TEXT NOT NULL, create_fingerprint TEXT)`,
  streams: `CREATE TABLE IF NOT EXISTS streams (
    name TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, deleted_at_ms INTEGER, create_fingerprint TEXT)`,
};

export function migrateRegistry(sql: SqlStorage, table: RegistryTable): void {
  sql.exec(DDL[table]);
}

export function listRegistry<Row extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  table: RegistryTable,
  query: ListQuery,
): ListPage<Row> {
  const rows = sql.exec<Row>(
    `SELECT * FROM ${table} WHERE substr(name, 1, length(?1)) = ?1 AND name > ?2 ORDER BY name LIMIT ?3`,
    query.prefix, query.startAfter, query.limit + 1,
  ).toArray();
  return { items: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}
