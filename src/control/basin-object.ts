/**
 * BasinObject: one per basin, the registry of its streams for listing, and the place stream lifecycle
 * happens (create, ensure, reconfigure, delete, auto-create). The basin's own config comes from the
 * AccountObject on each of these calls; appends and reads never come here.
 *
 * A create reserves the name in the registry before it awaits the stream's object, so two racing creates
 * cannot both succeed (the input gate lets other calls in during that await). A delete marks the row, empties
 * the stream's object, then forgets the row; if emptying fails, the alarm retries it.
 */
import { DurableObject } from "cloudflare:workers";
import {
  checkStreamConfigSpec, patchStreamConfig, resolveStreamConfig, sameStreamConfig,
  type StreamConfig, type StreamConfigSpec,
} from "../domain/config";
import { streamError, type StreamError } from "../domain/errors";
import type { ListPage, ListQuery, ProvisionResult, StreamInfo } from "../domain/resources";
import { accountStub, streamStub, type Env } from "../env";
import { err, ok, type Result } from "../lib/result";
import { checkEnsure, type EnsurePermission } from "../domain/access";
import { listRegistry, migrateRegistry } from "../storage/registry";
import type { Basin } from "./account-object";
import { locationHint } from "./location-hint";
import { BASIN_FANOUT_STREAMS_MAX, type UsageRange } from "../domain/usage";
import { armNoLaterThan, UsageLedger, type UsageReport } from "../storage/usage-ledger";
import { streamsStats, streamsUsage, type BasinStats, type BasinStreamsUsage } from "./basin-usage";
import type { BASIN_OPS } from "../domain/metric-sets";

interface StreamRow extends Record<string, SqlStorageValue> {
  name: string;
  created_at_ms: number;
  deleted_at_ms: number | null;
  create_fingerprint: string | null;
}

export type AutoCreateTrigger = "append" | "read";

const CLEANUP_RETRY_MS = 5_000;

const toInfo = (row: StreamRow): StreamInfo =>
  ({ name: row.name, createdAtMs: row.created_at_ms, deletedAtMs: row.deleted_at_ms });
const deletionPending = () => streamError("stream_deletion_pending", "stream is being deleted");
const notFound = () => streamError("stream_not_found", "stream not found");

export class BasinObject extends DurableObject<Env> {
  /** Creates whose registry row exists but whose stream object is not initialised yet. */
  readonly #creating = new Map<string, Promise<unknown>>();
  /** Stream lifecycle operations per minute (basin-ops); appends and reads are counted by the streams. */
  readonly #usage: UsageLedger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateRegistry(ctx.storage.sql, "streams");
    this.#usage = new UsageLedger(ctx.storage.sql, { armBy: (atMs) => ctx.waitUntil(armNoLaterThan(ctx.storage, atMs)) });
    // The alarm needs the basin's name, and ctx.id.name can be missing in a cold alarm (partykit#391).
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS basin_name (name TEXT NOT NULL)");
  }

  listStreams(query: ListQuery): ListPage<StreamInfo> {
    this.#count("list-streams");
    const page = listRegistry<StreamRow>(this.ctx.storage.sql, "streams", query);
    return { items: page.items.map(toInfo), hasMore: page.hasMore };
  }

  async createStream(basin: string, name: string, spec: StreamConfigSpec, fingerprint: string | null):
    Promise<Result<{ info: StreamInfo; result: ProvisionResult }, StreamError>> {
    this.#count("create-stream");
    const owner = await this.#ownerFor(basin, spec);
    if (!owner.ok) return owner;
    const row = this.#row(name);
    if (row?.deleted_at_ms != null) return err(deletionPending());
    if (row) {
      if (fingerprint !== null && row.create_fingerprint === fingerprint) return ok({ info: toInfo(row), result: "noop" });
      return err(streamError("resource_already_exists", "stream already exists"));
    }
    const config = resolveStreamConfig(spec, owner.value.config.defaultStreamConfig);
    return this.#create(owner.value, name, config, fingerprint);
  }

  /** PUT (S2-API §13.3): the stream's config becomes the requested one resolved against the basin defaults. */
  async ensureStream(basin: string, name: string, spec: StreamConfigSpec, permission: EnsurePermission):
    Promise<Result<{ info: StreamInfo; result: ProvisionResult }, StreamError>> {
    this.#count("create-stream");
    const owner = await this.#ownerFor(basin, spec);
    if (!owner.ok) return owner;
    const config = resolveStreamConfig(spec, owner.value.config.defaultStreamConfig);
    const row = this.#row(name);
    if (!row) {
      const allowed = checkEnsure(permission, "create");
      return allowed.ok ? this.#create(owner.value, name, config, null) : allowed;
    }
    if (row.deleted_at_ms !== null) return err(deletionPending());
    const stream = streamStub(this.env, basin, name);
    const current = await stream.getConfig();
    if (!current.ok) return current;
    if (sameStreamConfig(current.value, config)) return ok({ info: toInfo(row), result: "noop" });
    const allowed = checkEnsure(permission, "reconfigure");
    if (!allowed.ok) return allowed;
    const set = await stream.setConfig(config);
    if (!set.ok) return set;
    return ok({ info: toInfo(row), result: set.value.changed ? "updated" : "noop" });
  }

  async reconfigureStream(basin: string, name: string, patch: StreamConfigSpec): Promise<Result<StreamConfig, StreamError>> {
    this.#count("reconfigure-stream");
    const owner = await this.#ownerFor(basin, patch);
    if (!owner.ok) return owner;
    const row = this.#row(name);
    if (row?.deleted_at_ms != null) return err(deletionPending());
    const stream = streamStub(this.env, basin, name);
    const current = await stream.getConfig();
    if (!current.ok) return current;
    const config = patchStreamConfig(current.value, patch, owner.value.config.defaultStreamConfig);
    const set = await stream.setConfig(config);
    return set.ok ? ok(config) : set;
  }

  /** create_stream_on_append / create_stream_on_read: creates the stream with the basin's defaults if allowed. */
  async autoCreateStream(basin: string, name: string, trigger: AutoCreateTrigger): Promise<Result<void, StreamError>> {
    const owner = await this.#activeBasin(basin);
    if (!owner.ok) return owner;
    const { config } = owner.value;
    const allowed = trigger === "append" ? config.createStreamOnAppend : config.createStreamOnRead;
    const row = this.#row(name);
    if (row?.deleted_at_ms != null) return err(deletionPending());
    if (row) {
      // A racing first append or read: answer once the stream it is creating exists.
      await this.#creating.get(name)?.catch(() => undefined);
      return this.#row(name) ? ok(undefined) : err(streamError("transaction_conflict", "stream creation raced; retry"));
    }
    if (!allowed) return err(notFound());
    this.#count("create-stream");
    const created = await this.#create(owner.value, name, resolveStreamConfig({}, config.defaultStreamConfig), null);
    return created.ok ? ok(undefined) : created;
  }

  /**
   * Lists a stream that its own object created: Durable Streams creates streams there, where "created" and
   * "already exists" are decided atomically with the stream's other state. Idempotent; a row whose deletion
   * is pending is left alone.
   */
  adoptStream(name: string, createdAtMs: number): void {
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO streams (name, created_at_ms, deleted_at_ms, create_fingerprint) VALUES (?, ?, NULL, NULL)",
      name, createdAtMs,
    );
  }

  async deleteStream(basin: string, name: string): Promise<Result<void, StreamError>> {
    this.#count("delete-stream");
    const row = this.#row(name);
    if (!row) return err(notFound());
    this.#rememberBasin(basin);
    this.ctx.storage.sql.exec("UPDATE streams SET deleted_at_ms = coalesce(deleted_at_ms, ?) WHERE name = ?", Date.now(), name);
    await this.#purge(basin, [name]);
    return ok(undefined);
  }

  /** Basin deletion: every stream goes, then the registry is empty. */
  async deleteAllStreams(basin: string): Promise<void> {
    this.#rememberBasin(basin);
    this.ctx.storage.sql.exec("UPDATE streams SET deleted_at_ms = coalesce(deleted_at_ms, ?)", Date.now());
    const names = this.ctx.storage.sql.exec<{ name: string }>("SELECT name FROM streams").toArray().map((r) => r.name);
    await this.#purge(basin, names);
    if (this.ctx.storage.sql.exec("SELECT 1 FROM streams LIMIT 1").toArray().length > 0) {
      throw new Error(`streams of basin ${basin} remain after purge`);
    }
  }

  override async alarm(): Promise<void> {
    this.#usage.alarm(Date.now());
    const basin = this.ctx.storage.sql.exec<{ name: string }>("SELECT name FROM basin_name").toArray()[0]?.name;
    if (!basin) return;
    const names = this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM streams WHERE deleted_at_ms IS NOT NULL").toArray().map((r) => r.name);
    await this.#purge(basin, names);
  }

  /** Empties each stream's object and forgets it; failures stay marked and are retried by the alarm. */
  async #purge(basin: string, names: readonly string[]): Promise<void> {
    let failed = false;
    for (const name of names) {
      try {
        await streamStub(this.env, basin, name).destroy();
        this.ctx.storage.sql.exec("DELETE FROM streams WHERE name = ? AND deleted_at_ms IS NOT NULL", name);
      } catch (error) {
        console.error(`BasinObject: deleting stream ${basin}/${name} failed, retrying`, error);
        failed = true;
      }
    }
    if (failed) await this.ctx.storage.setAlarm(Date.now() + CLEANUP_RETRY_MS);
  }

  // Metrics (http/metrics). The basin's own object cannot tell an unknown basin from an empty one: both
  // answer with no streams and no usage, which is what the metrics API answers for an unknown basin.

  /** basin-ops: this basin's stream lifecycle operations over the range. */
  opsUsage(range: UsageRange): UsageReport {
    return this.#usage.report(range, Date.now(), null);
  }

  /** Appends, reads and storage of the basin's streams over the range (basin-usage.ts bounds the fan-out). */
  streamsUsage(basin: string, range: UsageRange): Promise<BasinStreamsUsage> {
    return streamsUsage(this.env, basin, this.#liveStreamNames(BASIN_FANOUT_STREAMS_MAX + 1), range);
  }

  /** Storage and seal lag of the basin's streams now. */
  streamsStats(basin: string): Promise<BasinStats> {
    return streamsStats(this.env, basin, this.#liveStreamNames(BASIN_FANOUT_STREAMS_MAX + 1));
  }

  #liveStreamNames(limit: number): string[] {
    return this.ctx.storage.sql.exec<{ name: string }>(
      "SELECT name FROM streams WHERE deleted_at_ms IS NULL ORDER BY name LIMIT ?", limit,
    ).toArray().map((row) => row.name);
  }

  #count(op: (typeof BASIN_OPS)[number]): void {
    this.#usage.count(Date.now(), { [op]: 1 });
  }

  async #create(owner: Basin, name: string, config: StreamConfig, fingerprint: string | null):
    Promise<Result<{ info: StreamInfo; result: ProvisionResult }, StreamError>> {
    const row: StreamRow = { name, created_at_ms: Date.now(), deleted_at_ms: null, create_fingerprint: fingerprint };
    this.ctx.storage.sql.exec(
      "INSERT INTO streams (name, created_at_ms, deleted_at_ms, create_fingerprint) VALUES (?, ?, ?, ?)",
      row.name, row.created_at_ms, row.deleted_at_ms, row.create_fingerprint,
    );
    const stub = streamStub(this.env, owner.info.name, name, locationHint(owner.info.location));
    const creating = stub.create({ basin: owner.info.name, stream: name, config, createdAtMs: row.created_at_ms });
    this.#creating.set(name, creating);
    try {
      await creating;
    } catch (error) {
      this.ctx.storage.sql.exec("DELETE FROM streams WHERE name = ? AND deleted_at_ms IS NULL", name);
      throw error;
    } finally {
      this.#creating.delete(name);
    }
    return ok({ info: toInfo(row), result: "created" });
  }

  /** The basin a stream config is for, once the config is valid and the basin can take streams. */
  async #ownerFor(basin: string, spec: StreamConfigSpec): Promise<Result<Basin, StreamError>> {
    const checked = checkStreamConfigSpec(spec);
    return checked.ok ? this.#activeBasin(basin) : checked;
  }

  async #activeBasin(basin: string): Promise<Result<Basin, StreamError>> {
    const found = await accountStub(this.env).getBasin(basin);
    if (!found.ok) return found;
    if (found.value.info.deletedAtMs !== null) return err(streamError("basin_deletion_pending", "basin is being deleted"));
    return found;
  }

  #row(name: string): StreamRow | undefined {
    return this.ctx.storage.sql.exec<StreamRow>("SELECT * FROM streams WHERE name = ?", name).toArray()[0];
  }

  #rememberBasin(basin: string): void {
    this.ctx.storage.sql.exec("DELETE FROM basin_name");
    this.ctx.storage.sql.exec("INSERT INTO basin_name (name) VALUES (?)", basin);
  }
}
