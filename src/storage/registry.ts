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
 *   access_tokens
 *             name (key: the token id), claims (JSON TokenClaims, as signed into the token), revoked_at_ms
 *             (null while valid), expires_at_ms (null: never; revoked rows go once the token expires)
 */
import type { ListPage, ListQuery } from "../domain/resources";

export type RegistryTable = "basins" | "streams" | "access_tokens";

const DDL: Record<RegistryTable, string> = {
  basins: `CREATE TABLE IF NOT EXISTS basins (
    name TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, deleted_at_ms INTEGER, location TEXT,
    config TEXT NOT NULL, create_fingerprint TEXT)`,
  streams: `CREATE TABLE IF NOT EXISTS streams (
    name TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, deleted_at_ms INTEGER, create_fingerprint TEXT)`,
  access_tokens: `CREATE TABLE IF NOT EXISTS access_tokens (
    name TEXT PRIMARY KEY, claims TEXT NOT NULL, revoked_at_ms INTEGER, expires_at_ms INTEGER)`,
};

export function migrateRegistry(sql: SqlStorage, table: RegistryTable): void {
  sql.exec(DDL[table]);
}

/**
 * `where` narrows the rows further (a fixed SQL condition of the caller's, never user input); `within`
 * (a scope) narrows them in SQL too, so the page limit and `has_more` count only names the caller may see.
 */
export function listRegistry<Row extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  table: RegistryTable,
  query: ListQuery,
  where = "1",
): ListPage<Row> {
  const within = query.within ?? { kind: "prefix", prefix: "" };
  if (within.kind === "none" || (within.kind === "exact" && within.name === "")) return { items: [], hasMore: false };
  const scope = within.kind === "exact" ? "name = ?4" : "substr(name, 1, length(?4)) = ?4";
  const rows = sql.exec<Row>(
    `SELECT * FROM ${table} WHERE substr(name, 1, length(?1)) = ?1 AND name > ?2 AND ${scope} AND (${where})
     ORDER BY name LIMIT ?3`,
    query.prefix, query.startAfter, query.limit + 1, within.kind === "exact" ? within.name : within.prefix,
  ).toArray();
  return { items: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}
