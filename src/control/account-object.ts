/**
 * AccountObject: the deployment's one registry of basins (their config, location and lifecycle) and of
 * issued access tokens (for listing, unique ids and revocation; verifying a token never comes here). Basin
 * deletion is two-phase: DELETE marks the basin (it stays listed with deleted_at and its name stays
 * reserved), and the alarm deletes its streams through the BasinObject, then forgets it. The alarm is
 * at-least-once, so each step is idempotent.
 */
import { DurableObject } from "cloudflare:workers";
import { canonicalJson, patchBasinConfig, type BasinConfig, type BasinConfigPatch } from "../domain/config";
import { checkEnsure, type EnsurePermission, type TokenClaims } from "../domain/access";
import { streamError, type StreamError } from "../domain/errors";
import type { BasinInfo, ListPage, ListQuery, ProvisionResult } from "../domain/resources";
import { basinStub, type Env } from "../env";
import { err, ok, type Result } from "../lib/result";
import { listRegistry, migrateRegistry } from "../storage/registry";
import type { ACCOUNT_OPS } from "../domain/metric-sets";
import type { UsageRange } from "../domain/usage";
import { armNoLaterThan, UsageLedger, type UsageReport } from "../storage/usage-ledger";

export interface Basin {
  info: BasinInfo;
  config: BasinConfig;
}

export interface BasinCreate {
  name: string;
  config: BasinConfig;
  location: string | null;
  /** Request token with the requested config: a replay with the same fingerprint is a no-op (S2-API §14.1). */
  fingerprint: string | null;
}

interface BasinRow extends Record<string, SqlStorageValue> {
  name: string;
  created_at_ms: number;
  deleted_at_ms: number | null;
  location: string | null;
  config: string;
  create_fingerprint: string | null;
}

/** A failed cleanup step is retried this much later. */
const CLEANUP_RETRY_MS = 5_000;

const notFound = () => streamError("basin_not_found", "basin not found");
const deletionPending = () => streamError("basin_deletion_pending", "basin is being deleted");

function toBasin(row: BasinRow): Basin {
  return {
    info: { name: row.name, location: row.location, createdAtMs: row.created_at_ms, deletedAtMs: row.deleted_at_ms },
    config: JSON.parse(row.config) as BasinConfig,
  };
}

/** Names one active-basins label lists at most (in name order): S2's basin limit per account is far below it. */
const ACTIVE_BASINS_MAX = 1000;

export class AccountObject extends DurableObject<Env> {
  /** Account operations per minute (account-ops). */
  readonly #usage: UsageLedger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateRegistry(ctx.storage.sql, "basins");
    migrateRegistry(ctx.storage.sql, "access_tokens");
    this.#usage = new UsageLedger(ctx.storage.sql, { armBy: (atMs) => ctx.waitUntil(armNoLaterThan(ctx.storage, atMs)) });
  }

  registerToken(claims: TokenClaims): Result<void, StreamError> {
    this.#count("issue-access-token");
    // An expired token's id is free again: the old token can never verify, whatever its row says.
    this.ctx.storage.sql.exec("DELETE FROM access_tokens WHERE name = ? AND expires_at_ms <= ?", claims.id, Date.now());
    const exists = this.ctx.storage.sql.exec("SELECT 1 FROM access_tokens WHERE name = ?", claims.id).toArray().length > 0;
    if (exists) return err(streamError("resource_already_exists", "access token id already exists"));
    this.ctx.storage.sql.exec(
      "INSERT INTO access_tokens (name, claims, revoked_at_ms, expires_at_ms) VALUES (?, ?, NULL, ?)",
      claims.id, JSON.stringify(claims), claims.expiresAtMs,
    );
    return ok(undefined);
  }

  /** Valid tokens only: revoked and expired ones are not listed. */
  listTokens(query: ListQuery): ListPage<TokenClaims> {
    this.#count("list-access-tokens");
    const page = listRegistry<{ claims: string }>(this.ctx.storage.sql, "access_tokens", query,
      `revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > ${Date.now()})`);
    return { items: page.items.map((row) => JSON.parse(row.claims) as TokenClaims), hasMore: page.hasMore };
  }

  revokeToken(id: string): Result<void, StreamError> {
    this.#count("revoke-access-token");
    const row = this.ctx.storage.sql.exec<{ revoked_at_ms: number | null; expires_at_ms: number | null }>(
      "SELECT revoked_at_ms, expires_at_ms FROM access_tokens WHERE name = ?", id).toArray()[0];
    const live = row && row.revoked_at_ms === null && (row.expires_at_ms === null || row.expires_at_ms > Date.now());
    if (!live) return err(streamError("access_token_not_found", "access token not found"));
    this.ctx.storage.sql.exec("UPDATE access_tokens SET revoked_at_ms = ? WHERE name = ?", Date.now(), id);
    return ok(undefined);
  }

  /** Ids of revoked tokens that would otherwise still be valid: what every edge must refuse. */
  revokedTokenIds(): string[] {
    const nowMs = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM access_tokens WHERE revoked_at_ms IS NOT NULL AND expires_at_ms <= ?", nowMs);
    return this.ctx.storage.sql.exec<{ name: string }>(
      "SELECT name FROM access_tokens WHERE revoked_at_ms IS NOT NULL").toArray().map((row) => row.name);
  }

  #row(name: string): BasinRow | undefined {
    return this.ctx.storage.sql.exec<BasinRow>("SELECT * FROM basins WHERE name = ?", name).toArray()[0];
  }

  listBasins(query: ListQuery): ListPage<BasinInfo> {
    this.#count("list-basins");
    const page = listRegistry<BasinRow>(this.ctx.storage.sql, "basins", query);
    return { items: page.items.map((row) => toBasin(row).info), hasMore: page.hasMore };
  }

  getBasin(name: string): Result<Basin, StreamError> {
    const row = this.#row(name);
    return row ? ok(toBasin(row)) : err(notFound());
  }

  createBasin(create: BasinCreate): Result<{ basin: Basin; result: ProvisionResult }, StreamError> {
    this.#count("create-basin");
    const row = this.#row(create.name);
    if (row?.deleted_at_ms != null) return err(deletionPending());
    if (row) {
      if (create.fingerprint !== null && row.create_fingerprint === create.fingerprint) return ok({ basin: toBasin(row), result: "noop" });
      return err(streamError("resource_already_exists", "basin already exists"));
    }
    return ok({ basin: this.#insert(create), result: "created" });
  }

  /** PUT: converge the config; the location of an existing basin never changes. */
  ensureBasin(create: BasinCreate, permission: EnsurePermission): Result<{ basin: Basin; result: ProvisionResult }, StreamError> {
    this.#count("create-basin");
    const row = this.#row(create.name);
    if (!row) {
      const allowed = checkEnsure(permission, "create");
      return allowed.ok ? ok({ basin: this.#insert(create), result: "created" }) : allowed;
    }
    if (row.deleted_at_ms !== null) return err(deletionPending());
    const config = canonicalJson(create.config);
    if (config === canonicalJson(JSON.parse(row.config))) return ok({ basin: toBasin(row), result: "noop" });
    const allowed = checkEnsure(permission, "reconfigure");
    if (!allowed.ok) return allowed;
    this.ctx.storage.sql.exec("UPDATE basins SET config = ? WHERE name = ?", config, create.name);
    return ok({ basin: toBasin({ ...row, config }), result: "updated" });
  }

  reconfigureBasin(name: string, patch: BasinConfigPatch): Result<BasinConfig, StreamError> {
    this.#count("reconfigure-basin");
    const row = this.#row(name);
    if (!row) return err(notFound());
    if (row.deleted_at_ms !== null) return err(deletionPending());
    const config = patchBasinConfig(toBasin(row).config, patch);
    this.ctx.storage.sql.exec("UPDATE basins SET config = ? WHERE name = ?", JSON.stringify(config), name);
    return ok(config);
  }

  async deleteBasin(name: string): Promise<Result<void, StreamError>> {
    const row = this.#row(name);
    if (!row) {
      this.#count("delete-basin");
      return err(notFound());
    }
    if (row.deleted_at_ms === null) {
      this.ctx.storage.sql.exec("UPDATE basins SET deleted_at_ms = ? WHERE name = ?", Date.now(), name);
    }
    await this.ctx.storage.setAlarm(Date.now());
    // Counted once the cleanup alarm is set, so the usage alarm request sees it and cannot push it back.
    this.#count("delete-basin");
    return ok(undefined);
  }

  override async alarm(): Promise<void> {
    this.#usage.alarm(Date.now());
    const deleting = this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM basins WHERE deleted_at_ms IS NOT NULL").toArray();
    for (const { name } of deleting) {
      try {
        await basinStub(this.env, name).deleteAllStreams(name);
        this.ctx.storage.sql.exec("DELETE FROM basins WHERE name = ? AND deleted_at_ms IS NOT NULL", name);
      } catch (error) {
        console.error(`AccountObject: deleting basin ${name} failed, retrying`, error);
        await this.ctx.storage.setAlarm(Date.now() + CLEANUP_RETRY_MS);
      }
    }
  }

  // Metrics (http/metrics).

  /** account-ops: the account's operations over the range. */
  opsUsage(range: UsageRange): UsageReport {
    return this.#usage.report(range, Date.now(), null);
  }

  /**
   * active-basins: basins that existed at some time during the range and are still known (a basin is
   * forgotten once its deletion completes), in name order.
   */
  activeBasins(range: UsageRange): string[] {
    return this.ctx.storage.sql.exec<{ name: string }>(
      `SELECT name FROM basins WHERE created_at_ms <= ? AND (deleted_at_ms IS NULL OR deleted_at_ms >= ?)
       ORDER BY name LIMIT ?`, range.endSecs * 1000 + 999, range.startSecs * 1000, ACTIVE_BASINS_MAX,
    ).toArray().map((row) => row.name);
  }

  /** Basins not being deleted, in name order, at most `limit` (Prometheus scrapes gather from these). */
  basinNames(limit: number): string[] {
    return this.ctx.storage.sql.exec<{ name: string }>(
      "SELECT name FROM basins WHERE deleted_at_ms IS NULL ORDER BY name LIMIT ?", limit,
    ).toArray().map((row) => row.name);
  }

  #count(op: (typeof ACCOUNT_OPS)[number]): void {
    this.#usage.count(Date.now(), { [op]: 1 });
  }

  #insert(create: BasinCreate): Basin {
    const row: BasinRow = {
      name: create.name,
      created_at_ms: Date.now(),
      deleted_at_ms: null,
      location: create.location,
      config: JSON.stringify(create.config),
      create_fingerprint: create.fingerprint,
    };
    this.ctx.storage.sql.exec(
      "INSERT INTO basins (name, created_at_ms, deleted_at_ms, location, config, create_fingerprint) VALUES (?, ?, ?, ?, ?, ?)",
      row.name, row.created_at_ms, row.deleted_at_ms, row.location, row.config, row.create_fingerprint,
    );
    return toBasin(row);
  }
}
