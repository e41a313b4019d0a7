/**
 * SQLite storage of the subscriptions of one Durable Streams basin, inside its SubscriptionObject. All SQL of
 * subscriptions lives here; callers get domain values. Synchronous, so a check and its update never
 * interleave with another request.
 *
 * Tables (created if missing; additive changes only):
 *   hub               one row: basin (the object's own basin; ctx.id.name can be missing in a cold alarm)
 *   subscriptions     one row per subscription, updated by every wake transition.
 *                       id                  client-chosen id (key)
 *                       config              JSON SubscriptionConfig, normalized
 *                       config_hash         canonical JSON of config: a re-confirm must match it exactly
 *                       stream_root         `{origin}/v1/stream` as the creating request saw it (callback, JWKS URLs)
 *                       created_at_ms       ms since the Unix epoch
 *                       generation          the last wake's generation (0 before the first)
 *                       wake                JSON Wake of the wake in flight; null when idle
 *                       failing, attempts   webhook delivery failing, and failed attempts of the current wake
 *                       next_attempt_at_ms  when the failing delivery is retried; null if none is scheduled
 *   links             one row per (subscription, stream path).
 *                       explicit, glob      why it is linked: by `streams[]`, by `pattern`, or both
 *                       acked_seq_num       engine seq num the subscriber has processed up to (exclusive)
 *                       tail_seq_num        the stream's tail as last reported
 *   signing_keys      Ed25519 webhook signing keys: kid (key), private_jwk, public_jwk (JSON), created_at_ms
 */
import type { Link, SubscriptionConfig, Wake } from "../domain/subscription";

export interface SubscriptionRecord {
  id: string;
  config: SubscriptionConfig;
  configHash: string;
  streamRoot: string;
  createdAtMs: number;
  generation: number;
  wake: Wake | null;
  failing: boolean;
  attempts: number;
  nextAttemptAtMs: number | null;
}

export interface SigningKey {
  kid: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}

interface SubscriptionRow extends Record<string, SqlStorageValue> {
  id: string;
  config: string;
  config_hash: string;
  stream_root: string;
  created_at_ms: number;
  generation: number;
  wake: string | null;
  failing: number;
  attempts: number;
  next_attempt_at_ms: number | null;
}

interface LinkRow extends Record<string, SqlStorageValue> {
  subscription_id: string;
  path: string;
  explicit: number;
  glob: number;
  acked_seq_num: number;
  tail_seq_num: number;
}

const DDL = `
  CREATE TABLE IF NOT EXISTS hub (id INTEGER PRIMARY KEY CHECK (id = 1), basin TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, config TEXT NOT NULL, config_hash TEXT NOT NULL, stream_root TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL, generation INTEGER NOT NULL, wake TEXT, failing INTEGER NOT NULL,
    attempts INTEGER NOT NULL, next_attempt_at_ms INTEGER
  );
  CREATE TABLE IF NOT EXISTS links (
    subscription_id TEXT NOT NULL, path TEXT NOT NULL, explicit INTEGER NOT NULL, glob INTEGER NOT NULL,
    acked_seq_num INTEGER NOT NULL, tail_seq_num INTEGER NOT NULL, PRIMARY KEY (subscription_id, path)
  );
  CREATE INDEX IF NOT EXISTS links_by_path ON links (path);
  CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY, private_jwk TEXT NOT NULL, public_jwk TEXT NOT NULL, created_at_ms INTEGER NOT NULL
  );
`;

const fromRow = (row: SubscriptionRow): SubscriptionRecord => ({
  id: row.id,
  config: JSON.parse(row.config) as SubscriptionConfig,
  configHash: row.config_hash,
  streamRoot: row.stream_root,
  createdAtMs: row.created_at_ms,
  generation: row.generation,
  wake: row.wake === null ? null : (JSON.parse(row.wake) as Wake),
  failing: row.failing !== 0,
  attempts: row.attempts,
  nextAttemptAtMs: row.next_attempt_at_ms,
});

const toLink = (row: LinkRow): Link => ({
  path: row.path, explicit: row.explicit !== 0, glob: row.glob !== 0, ackedSeqNum: row.acked_seq_num, tailSeqNum: row.tail_seq_num,
});

export class SubscriptionStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(DDL);
  }

  basin(): string | undefined {
    return this.sql.exec<{ basin: string }>("SELECT basin FROM hub").toArray()[0]?.basin;
  }

  rememberBasin(basin: string): void {
    this.sql.exec("INSERT OR REPLACE INTO hub (id, basin) VALUES (1, ?)", basin);
  }

  get(id: string): SubscriptionRecord | undefined {
    const row = this.sql.exec<SubscriptionRow>("SELECT * FROM subscriptions WHERE id = ?", id).toArray()[0];
    return row ? fromRow(row) : undefined;
  }

  all(): SubscriptionRecord[] {
    return this.sql.exec<SubscriptionRow>("SELECT * FROM subscriptions").toArray().map(fromRow);
  }

  save(record: SubscriptionRecord): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO subscriptions (id, config, config_hash, stream_root, created_at_ms, generation, wake, failing,
         attempts, next_attempt_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.id, JSON.stringify(record.config), record.configHash, record.streamRoot, record.createdAtMs, record.generation,
      record.wake === null ? null : JSON.stringify(record.wake), record.failing ? 1 : 0, record.attempts, record.nextAttemptAtMs,
    );
  }

  /** Removes the subscription and its links; returns the paths it linked. */
  delete(id: string): string[] {
    const paths = this.links(id).map((link) => link.path);
    this.sql.exec("DELETE FROM links WHERE subscription_id = ?", id);
    this.sql.exec("DELETE FROM subscriptions WHERE id = ?", id);
    return paths;
  }

  links(id: string): Link[] {
    return this.sql.exec<LinkRow>("SELECT * FROM links WHERE subscription_id = ? ORDER BY path", id).toArray().map(toLink);
  }

  link(id: string, path: string): Link | undefined {
    const row = this.sql.exec<LinkRow>("SELECT * FROM links WHERE subscription_id = ? AND path = ?", id, path).toArray()[0];
    return row ? toLink(row) : undefined;
  }

  /** Subscription ids that link `path`. */
  linkedBy(path: string): string[] {
    return this.sql.exec<{ subscription_id: string }>("SELECT subscription_id FROM links WHERE path = ?", path).toArray()
      .map((row) => row.subscription_id);
  }

  saveLink(id: string, link: Link): void {
    if (!link.explicit && !link.glob) {
      this.sql.exec("DELETE FROM links WHERE subscription_id = ? AND path = ?", id, link.path);
      return;
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO links (subscription_id, path, explicit, glob, acked_seq_num, tail_seq_num) VALUES (?, ?, ?, ?, ?, ?)",
      id, link.path, link.explicit ? 1 : 0, link.glob ? 1 : 0, link.ackedSeqNum, link.tailSeqNum,
    );
  }

  signingKey(): SigningKey | undefined {
    const row = this.sql.exec<{ kid: string; private_jwk: string; public_jwk: string }>(
      "SELECT kid, private_jwk, public_jwk FROM signing_keys ORDER BY created_at_ms DESC LIMIT 1").toArray()[0];
    return row ? { kid: row.kid, privateJwk: JSON.parse(row.private_jwk), publicJwk: JSON.parse(row.public_jwk) } : undefined;
  }

  publicKeys(): { kid: string; publicJwk: JsonWebKey }[] {
    return this.sql.exec<{ kid: string; public_jwk: string }>("SELECT kid, public_jwk FROM signing_keys ORDER BY created_at_ms").toArray()
      .map((row) => ({ kid: row.kid, publicJwk: JSON.parse(row.public_jwk) as JsonWebKey }));
  }

  saveSigningKey(key: SigningKey, nowMs: number): void {
    this.sql.exec("INSERT OR IGNORE INTO signing_keys (kid, private_jwk, public_jwk, created_at_ms) VALUES (?, ?, ?, ?)",
      key.kid, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk), nowMs);
  }
}
