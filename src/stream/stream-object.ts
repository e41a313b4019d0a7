/**
 * StreamObject: one Durable Object per (basin, stream), the stream's single writer. It owns the stream's
 * metadata and its tail of records in SQLite. Each append is checked, sequenced and committed in one
 * transactionSync; its ack leaves only after the commit is durable, because the output gate holds every
 * outgoing message until earlier writes are confirmed (PLATFORM.md §1).
 *
 * Methods are RPC entry points returning Results; they never throw expected failures. The Durable Streams
 * rules of the stream (content type, closed, producers, expiry, forks) live in guarded-stream.ts and
 * stream-forks.ts; the S2 methods here consult them, so both protocols see one stream.
 */
import { DurableObject } from "cloudflare:workers";
import { planAppend, EMPTY_STREAM_STATE } from "../domain/append";
import { retentionExpiresAtMs, sameStreamConfig, type StreamConfig } from "../domain/config";
import { streamError, type StreamError } from "../domain/errors";
import { ReadBudget, resolveReadStart, type BatchSize, type ReadEnd } from "../domain/read";
import type { AppendAck, AppendInput, ReadLimits, ReadRequest, SequencedRecord, StreamPosition } from "../domain/types";
import { err, ok, type Result } from "../lib/result";
import { LifecycleStore } from "../storage/lifecycle-store";
import { StreamStore, type StreamMeta } from "../storage/stream-store";
import { METERED_BYTES_PER_BATCH_MAX, RECORDS_PER_BATCH_MAX } from "../domain/limits";
import type { Env } from "../env";
import { LIVE_PATH } from "../protocol/live";
import { FOLLOW_GAP_RECORDS_MAX, Followers } from "./followers";
import { GuardedStream } from "./guarded-stream";
import type {
  GuardedAppend, GuardedAppendAck, GuardedCreate, GuardedCreated, GuardedRead, GuardedReadRequest, StreamDescription,
  StreamHost,
} from "./guarded-types";
import { ForkSource, type ForkGrant, type ForkPage, type ForkPointRequest } from "./stream-forks";
import { basinStub } from "../env";
import { SegmentIndex } from "../storage/segment-index";
import { R2SegmentStore, segmentPrefix } from "../storage/segment-store";
import { AlarmClock } from "./alarm-clock";
import { RecordReader } from "./record-reader";
import { needsSeal, sealDueMs, sealPolicy, type SealPolicy } from "./seal-policy";
import { Sealer } from "./sealer";
import { StreamUsage, type StreamStats } from "./stream-usage";
import type { ReadKind, UsageRange } from "../domain/usage";
import type { UsageReport } from "../storage/usage-ledger";

/** Orphaned segment objects (a seal whose commit was lost) are looked for at least this often. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * After a failed maintenance run (R2 unavailable) the next seal waits this long, doubling per consecutive
 * failure up to the maximum. Without it every append and every failed alarm re-armed the alarm for "now",
 * and an object whose R2 was down spun through alarms (each a billed setAlarm) hammering R2.
 */
const MAINTENANCE_RETRY_MS_MIN = 1_000;
const MAINTENANCE_RETRY_MS_MAX = 60_000;

export interface StreamInit {
  basin: string;
  stream: string;
  config: StreamConfig;
  createdAtMs: number;
}

/** One batch of a read, with the tail it was read at, where the read continues, and why it stopped. */
export interface ReadOutcome {
  records: SequencedRecord[];
  tail: StreamPosition;
  nextSeqNum: number;
  end: ReadEnd;
}

/** One read batch, in a unary response or a session message (S2-API §8.4). */
const READ_BATCH_MAX: BatchSize = { records: RECORDS_PER_BATCH_MAX, bytes: METERED_BYTES_PER_BATCH_MAX };

const notFound = (): StreamError => streamError("stream_not_found", "stream not found");

export class StreamObject extends DurableObject<Env> {
  readonly #store: StreamStore;
  readonly #segmentIndex: SegmentIndex;
  readonly #reader: RecordReader;
  readonly #sealer: Sealer;
  readonly #alarm: AlarmClock;
  readonly #sealPolicy: SealPolicy;
  readonly #followers: Followers;
  readonly #guarded: GuardedStream;
  /** When orphans were last swept; 0 after a restart, so a restarted object sweeps at its first alarm. */
  #lastSweepMs = 0;
  /** Set when a segment object may be left without an index row: the next alarm sweeps. */
  #orphans = false;
  /** Consecutive failed maintenance runs, and when sealing may be tried again (0: at once). */
  #maintenanceFailures = 0;
  #maintenanceRetryAtMs = 0;
  /** The alarm's seals while they run, so a destroy can wait for them (see destroy). */
  #sealing: Promise<unknown> | undefined;
  /** A destroy is under way: no new seal may start (its segment would land after the wipe). */
  #destroying = false;
  readonly #forks: ForkSource;
  /** Append and read usage per minute, for the metrics API (stream-usage.ts). */
  readonly #usage: StreamUsage;
  /** Mirror of stream_meta, so appends and reads need no metadata query; undefined until created. */
  #meta: StreamMeta | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new StreamStore(ctx.storage.sql);
    this.#segmentIndex = new SegmentIndex(ctx.storage.sql);
    const segments = new R2SegmentStore(env.SEGMENTS);
    this.#reader = new RecordReader(this.#store, this.#segmentIndex, segments);
    this.#sealPolicy = sealPolicy(env);
    this.#sealer = new Sealer(this.#store, this.#segmentIndex, segments, <T>(fn: () => T) => ctx.storage.transactionSync(fn), this.#sealPolicy);
    this.#alarm = new AlarmClock(ctx.storage);
    this.#followers = new Followers(ctx, (records, copies) => this.#usage.countRead(Date.now(), "streaming", 0, records, copies));
    this.#usage = new StreamUsage(ctx.storage.sql, {
      store: this.#store, segmentIndex: this.#segmentIndex, followers: () => this.#followers.count(),
      armBy: (atMs) => ctx.waitUntil(this.#alarm.armBy(atMs)),
    });
    const lifecycles = new LifecycleStore(ctx.storage.sql);
    const host: StreamHost = {
      ctx, env, store: this.#store, followers: this.#followers,
      meta: () => this.#meta,
      setMeta: (meta) => {
        this.#meta = meta;
      },
      readFrom: (seqNum, limits) => this.#readFrom(seqNum, limits),
      batchAt: (seqNum) => this.#store.batchAt(seqNum) ?? this.#segmentIndex.batchAt(seqNum),
      tailRoom: () => this.#tailRoom(),
      armAlarm: (atMs) => this.#alarm.armBy(atMs),
      destroy: () => this.destroy(),
    };
    this.#guarded = new GuardedStream(host, lifecycles);
    this.#forks = new ForkSource(host, this.#guarded, lifecycles);
    ctx.blockConcurrencyWhile(async () => {
      this.#store.migrate();
      this.#meta = this.#store.loadMeta();
      this.#guarded.load();
    });
  }

  /** Idempotent: an existing stream is left as it is and reported as not created. */
  create(init: StreamInit): Result<{ created: boolean }, StreamError> {
    if (this.#meta) return ok({ created: false });
    const meta: StreamMeta = { ...init, state: EMPTY_STREAM_STATE };
    this.#store.createMeta(meta);
    this.#meta = meta;
    return ok({ created: true });
  }

  getConfig(): Result<StreamConfig, StreamError> {
    return this.#meta ? ok(this.#meta.config) : err(notFound());
  }

  /** Sets the whole config; reports whether anything changed. */
  setConfig(config: StreamConfig): Result<{ changed: boolean }, StreamError> {
    const meta = this.#meta;
    if (!meta) return err(notFound());
    if (sameStreamConfig(meta.config, config)) return ok({ changed: false });
    this.#store.saveConfig(config);
    meta.config = config;
    return ok({ changed: true });
  }

  append(input: AppendInput): Result<AppendAck, StreamError> {
    const meta = this.#meta;
    if (!meta) return err(notFound());
    const arrivalMs = Date.now();
    const appendable = this.#guarded.checkAppendable(arrivalMs);
    if (!appendable.ok) return appendable;
    const room = this.#tailRoom();
    if (!room.ok) return room;
    const planned = planAppend(meta.state, input, meta.config, arrivalMs);
    if (!planned.ok) return planned;
    const expiresAtMs = retentionExpiresAtMs(meta.config, arrivalMs);
    this.ctx.storage.transactionSync(() => {
      this.#store.appendBatch(planned.value.records, planned.value.state, expiresAtMs);
      this.#guarded.touch(arrivalMs);
    });
    meta.state = planned.value.state;
    this.#usage.countAppend(arrivalMs, meta.config.storageClass, planned.value.records);
    this.#followers.push(planned.value.records, meta.state.tail);
    this.#guarded.reportAppend(meta.state.tail);
    this.#scheduleMaintenance(arrivalMs);
    return ok(planned.value.ack);
  }

  /**
   * The first batch of a read: resolves the start (416 and clamp rules), then reads what the limits admit,
   * at most one batch. `nextSeqNum` is where a continuation or a live follow picks up.
   */
  async read(request: ReadRequest, kind: ReadKind = "unary"): Promise<Result<ReadOutcome, StreamError>> {
    const meta = this.#readable();
    if (!meta.ok) return meta;
    const { tail, trimPoint } = meta.value.state;
    const start = resolveReadStart(request, tail);
    if (!start.ok) return start;
    let fromSeqNum = tail.seqNum;
    if (start.value.kind === "seq_num") fromSeqNum = start.value.seqNum;
    else {
      const found = await this.#reader.seqNumAtTimestamp(start.value.timestamp, trimPoint, Date.now());
      if (!found.ok) return found;
      fromSeqNum = found.value ?? tail.seqNum;
    }
    const outcome = await this.#readFrom(fromSeqNum, request.limits);
    if (outcome.ok) this.#usage.countRead(Date.now(), kind, 1, outcome.value.records);
    return outcome;
  }

  /** A continuation of a read already started: no start rules, the records from `seqNum` on. */
  async readFrom(seqNum: number, limits: ReadLimits): Promise<Result<ReadOutcome, StreamError>> {
    const meta = this.#readable();
    if (!meta.ok) return meta;
    const outcome = await this.#readFrom(seqNum, limits);
    if (outcome.ok) this.#usage.countRead(Date.now(), "streaming", 0, outcome.value.records);
    return outcome;
  }

  /** The stream, if it exists for readers: not expired or deleted under Durable Streams rules. */
  #readable(): Result<StreamMeta, StreamError> {
    if (!this.#meta) return err(notFound());
    const readable = this.#guarded.checkReadable(Date.now());
    return readable.ok ? ok(this.#meta) : readable;
  }

  async #readFrom(fromSeqNum: number, limits: ReadLimits): Promise<Result<ReadOutcome, StreamError>> {
    const { trimPoint } = this.#meta!.state;
    const read = await this.#reader.read(fromSeqNum, trimPoint, Date.now(), new ReadBudget(limits), READ_BATCH_MAX);
    if (!read.ok) return read;
    const { records, end } = read.value;
    // The tail as of the end of the read (it may have moved while segments were fetched).
    const { tail } = this.#meta!.state;
    // Nothing read and not stopped by a limit means nothing is readable up to the tail.
    const nextSeqNum = records.length > 0 ? records[records.length - 1]!.seqNum + 1 : end === "limit" ? fromSeqNum : tail.seqNum;
    return ok({ records, tail, nextSeqNum, end });
  }

  /** WebSocket subscriptions of live relays (protocol/live.ts); nothing else is served over fetch. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== LIVE_PATH || request.headers.get("upgrade") !== "websocket") return new Response(null, { status: 404 });
    const meta = this.#readable();
    if (!meta.ok) return new Response(null, { status: 404 });
    const from = Number(url.searchParams.get("from"));
    const { tail } = meta.value.state;
    if (!Number.isSafeInteger(from) || from < 0 || from > tail.seqNum) return new Response(null, { status: 400 });
    if (tail.seqNum - from > FOLLOW_GAP_RECORDS_MAX) return new Response(null, { status: 409 });
    // Read the gap, then accept with the tail as it is now: records appended during the reads are pushed
    // to accepted sockets only, so the last gap read must reach the tail of this very turn.
    const catchUp: SequencedRecord[][] = [];
    let next = from;
    for (;;) {
      const read = await this.#readFrom(next, {});
      // The relay falls back to catch-up reads, which report the failure to their readers.
      if (!read.ok) return new Response(null, { status: 503 });
      const { records, nextSeqNum, tail: readTail } = read.value;
      if (records.length > 0) catchUp.push(records);
      next = nextSeqNum;
      if (records.length === 0 || next >= readTail.seqNum) break;
    }
    const now = this.#meta?.state.tail;
    if (!now || now.seqNum !== next) return new Response(null, { status: 409 });
    return this.#followers.accept(catchUp, now, this.#guarded.isClosed());
  }

  checkTail(): Result<StreamPosition, StreamError> {
    const meta = this.#readable();
    return meta.ok ? ok(meta.value.state.tail) : meta;
  }

  /**
   * Removes every trace of the stream; a stream recreated under the same name starts empty. A fork first
   * lets go of its source (which may throw; the basin then retries the whole delete).
   */
  async destroy(): Promise<void> {
    this.#destroying = true;
    try {
      await this.#guarded.releaseSource();
      this.#followers.closeAll();
      // A seal in flight would put its segment after the sweep below, under a prefix nothing would ever
      // sweep again (a deleted stream has no alarm): let it end first. No new one starts meanwhile.
      await this.#sealing?.catch(() => undefined);
      // Segments first: once storage is wiped nothing remembers them (a later sweep would still find them).
      await this.#sealer.sweepAll(this.#segmentPrefix());
      await this.ctx.storage.deleteAll();
      this.#alarm.fired();
      this.#store.migrate();
      this.#usage.reset();
      this.#meta = undefined;
      this.#guarded.forget();
    } finally {
      this.#destroying = false;
    }
  }

  /**
   * Sealing, retention, orphan sweeps and Durable Streams expiry. At-least-once: every step is idempotent,
   * and a failure leaves the work for the retry, which this object arms itself, backed off.
   */
  override async alarm(info?: AlarmInvocationInfo): Promise<void> {
    this.#alarm.fired();
    this.#usage.alarm(Date.now());
    await this.#guarded.alarm();
    const meta = this.#meta;
    if (!meta || this.#destroying) return;
    const nowMs = Date.now();
    try {
      await this.#dropDead(meta, nowMs);
      if (nowMs >= this.#maintenanceRetryAtMs) {
        this.#sealing = this.#sealer.sealAll(this.#segmentPrefix(), nowMs);
        await this.#sealing;
      }
      if (info?.isRetry || this.#orphans || nowMs - this.#lastSweepMs > SWEEP_INTERVAL_MS) {
        this.#orphans = true;
        await this.#sealer.sweep(this.#segmentPrefix());
        this.#orphans = false;
        this.#lastSweepMs = nowMs;
      }
      this.#maintenanceFailures = 0;
      this.#maintenanceRetryAtMs = 0;
    } catch (error) {
      // Not rethrown: the retry is ours, backed off (#scheduleMaintenance); workerd's own retry would come on
      // top of the alarm armed below. A seal that failed after its put may have left an orphan.
      this.#orphans = true;
      this.#maintenanceFailures += 1;
      const delayMs = Math.min(MAINTENANCE_RETRY_MS_MAX, MAINTENANCE_RETRY_MS_MIN * 2 ** (this.#maintenanceFailures - 1));
      this.#maintenanceRetryAtMs = nowMs + delayMs;
      console.error(`StreamObject ${meta.basin}/${meta.stream}: maintenance failed (${this.#maintenanceFailures} in a row), next try in ${delayMs} ms`, error);
    } finally {
      this.#sealing = undefined;
      await this.#deleteIfEmpty(meta, nowMs);
      this.#scheduleMaintenance(nowMs);
    }
  }

  /** R2 key prefix of this object's segments (segment-store.ts); every incarnation shares it, for sweeps. */
  #segmentPrefix(): string {
    return segmentPrefix(this.ctx.id.toString());
  }

  /**
   * Retention and trim: tail rows and whole segments with nothing live left go. A segment leaves the index
   * first, then R2; if the R2 delete fails, the object is an orphan for the sweep.
   */
  async #dropDead(meta: StreamMeta, nowMs: number): Promise<void> {
    this.#store.deleteExpired(nowMs);
    const dead = this.#segmentIndex.dead(meta.state.trimPoint, nowMs);
    if (dead.length === 0) return;
    this.ctx.storage.transactionSync(() => dead.forEach((segment) => this.#segmentIndex.delete(segment.startSeqNum)));
    this.#orphans = true;
    await this.#sealer.deleteObjects(dead.map((segment) => segment.objectKey));
    this.#orphans = false;
  }

  /** Delete-on-empty (S2-API §14.5): no live records and no appends for min_age_secs. */
  async #deleteIfEmpty(meta: StreamMeta, nowMs: number): Promise<void> {
    const minAgeMs = meta.config.deleteOnEmptyMinAgeSecs * 1000;
    if (minAgeMs === 0 || this.#store.tailStats().rows > 0 || this.#segmentIndex.keys().size > 0) return;
    const lastActiveMs = Math.max(this.#store.lastAppendMs(), meta.createdAtMs);
    if (nowMs - lastActiveMs < minAgeMs) return;
    await basinStub(this.env, meta.basin).deleteStream(meta.basin, meta.stream);
  }

  /** Arms the alarm for the earliest maintenance due: sealing now or by age, retention, delete-on-empty. */
  #scheduleMaintenance(nowMs: number): void {
    const meta = this.#meta;
    if (!meta) return;
    const stats = this.#store.tailStats();
    const sealAtMs = needsSeal(stats, this.#sealPolicy, nowMs) || this.#orphans ? nowMs : sealDueMs(stats, this.#sealPolicy);
    const due = [
      // After failures, not before the backoff allows (an append asking for "now" would undo it).
      sealAtMs === null ? null : Math.max(sealAtMs, this.#maintenanceRetryAtMs),
      this.#store.nextExpiryMs(), this.#segmentIndex.nextExpiryMs(),
      meta.config.deleteOnEmptyMinAgeSecs > 0 ? Math.max(this.#store.lastAppendMs(), meta.createdAtMs) + meta.config.deleteOnEmptyMinAgeSecs * 1000 : null,
    ].filter((at): at is number => at !== null);
    if (due.length > 0) this.ctx.waitUntil(this.#alarm.armBy(Math.max(nowMs, Math.min(...due))));
  }

  /** The hard bound on the tail while sealing is behind (e.g. R2 down): refuse, retryably, rather than grow. */
  #tailRoom(): Result<void, StreamError> {
    if (this.#store.tailStats().bytes <= this.#sealPolicy.tailBytesMax) return ok(undefined);
    return err(streamError("unavailable", "the stream's tail is full while sealing to object storage catches up; retry later"));
  }

  // Durable Streams (http/ds): each delegates to the stream's guarded rules or its fork source side.

  // Durable Streams creates and appends write tail rows as S2 appends do, so they too are held to the tail
  // bound and arm the sealing alarm (before, a stream written only through Durable Streams never sealed).

  async createGuarded(request: GuardedCreate): Promise<Result<GuardedCreated, StreamError>> {
    const created = await this.#guarded.create(request);
    if (created.ok && created.value.created) this.#scheduleMaintenance(Date.now());
    return created;
  }

  appendGuarded(request: GuardedAppend): Result<GuardedAppendAck, StreamError> {
    const before = this.#meta?.state.tail.seqNum ?? 0;
    const acked = this.#guarded.append(request);
    if (acked.ok) this.#scheduleMaintenance(Date.now());
    if (acked.ok && !acked.value.duplicate && this.#meta) {
      this.#usage.countGuardedAppend(Date.now(), this.#meta.config.storageClass, acked.value.tail.seqNum - before, request.payload);
    }
    return acked;
  }

  async readGuarded(request: GuardedReadRequest, kind: ReadKind = "unary"): Promise<Result<GuardedRead, StreamError>> {
    const read = await this.#guarded.read(request);
    if (read.ok) this.#usage.countRead(Date.now(), kind, 1, read.value.outcome.records);
    return read;
  }

  describe(): Result<StreamDescription, StreamError> {
    return this.#guarded.describe();
  }

  deleteGuarded(): Promise<Result<void, StreamError>> {
    return this.#guarded.delete();
  }

  acquireFork(forkId: string, request: ForkPointRequest): Promise<Result<ForkGrant, StreamError>> {
    return this.#forks.acquire(forkId, request);
  }

  copyForFork(forkId: string, fromSeqNum: number, endSeqNum: number): Promise<Result<ForkPage, StreamError>> {
    return this.#forks.copy(forkId, fromSeqNum, endSeqNum);
  }

  releaseFork(forkId: string): Promise<Result<void, StreamError>> {
    return this.#forks.release(forkId);
  }

  // Metrics (http/metrics): usage over a range for the S2 metrics API, and storage now for scrapes.

  /** Usage of this stream over the range; a stream that does not exist has none (the API answers empty). */
  usage(range: UsageRange): UsageReport {
    return this.#usage.report(range, Date.now(), this.#meta !== undefined);
  }

  /** Storage and seal lag now; null if the stream does not exist. */
  stats(): StreamStats | null {
    return this.#meta ? this.#usage.stats(Date.now()) : null;
  }

  watch(on: boolean): Result<void, StreamError> {
    return this.#guarded.watch(on);
  }
}
