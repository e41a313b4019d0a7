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
import { ReadBudget, resolveReadStart } from "../domain/read";
import type { AppendAck, AppendInput, ReadLimits, ReadRequest, SequencedRecord, StreamPosition } from "../domain/types";
import { err, ok, type Result } from "../lib/result";
import { LifecycleStore } from "../storage/lifecycle-store";
import { StreamStore, type BatchSize, type ReadEnd, type StreamMeta } from "../storage/stream-store";
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
  readonly #followers: Followers;
  readonly #guarded: GuardedStream;
  readonly #forks: ForkSource;
  /** Mirror of stream_meta, so appends and reads need no metadata query; undefined until created. */
  #meta: StreamMeta | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new StreamStore(ctx.storage.sql);
    this.#followers = new Followers(ctx);
    const lifecycles = new LifecycleStore(ctx.storage.sql);
    const host: StreamHost = {
      ctx, env, store: this.#store, followers: this.#followers,
      meta: () => this.#meta,
      setMeta: (meta) => {
        this.#meta = meta;
      },
      readFrom: (seqNum, limits) => this.#readFrom(seqNum, limits),
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
    const planned = planAppend(meta.state, input, meta.config, arrivalMs);
    if (!planned.ok) return planned;
    const expiresAtMs = retentionExpiresAtMs(meta.config, arrivalMs);
    this.ctx.storage.transactionSync(() => {
      this.#store.appendBatch(planned.value.records, planned.value.state, expiresAtMs);
      this.#guarded.touch(arrivalMs);
    });
    meta.state = planned.value.state;
    this.#followers.push(planned.value.records, meta.state.tail);
    this.#guarded.reportAppend(meta.state.tail);
    return ok(planned.value.ack);
  }

  /**
   * The first batch of a read: resolves the start (416 and clamp rules), then reads what the limits admit,
   * at most one batch. `nextSeqNum` is where a continuation or a live follow picks up.
   */
  read(request: ReadRequest): Result<ReadOutcome, StreamError> {
    const meta = this.#readable();
    if (!meta.ok) return meta;
    const { tail, trimPoint } = meta.value.state;
    const start = resolveReadStart(request, tail);
    if (!start.ok) return start;
    const fromSeqNum = start.value.kind === "seq_num"
      ? start.value.seqNum
      : this.#store.seqNumAtTimestamp(start.value.timestamp, trimPoint, Date.now()) ?? tail.seqNum;
    return ok(this.#readFrom(fromSeqNum, request.limits));
  }

  /** A continuation of a read already started: no start rules, the records from `seqNum` on. */
  readFrom(seqNum: number, limits: ReadLimits): Result<ReadOutcome, StreamError> {
    const meta = this.#readable();
    return meta.ok ? ok(this.#readFrom(seqNum, limits)) : meta;
  }

  /** The stream, if it exists for readers: not expired or deleted under Durable Streams rules. */
  #readable(): Result<StreamMeta, StreamError> {
    if (!this.#meta) return err(notFound());
    const readable = this.#guarded.checkReadable(Date.now());
    return readable.ok ? ok(this.#meta) : readable;
  }

  #readFrom(fromSeqNum: number, limits: ReadLimits): ReadOutcome {
    const { tail, trimPoint } = this.#meta!.state;
    const { records, end } = this.#store.readRecords(fromSeqNum, trimPoint, Date.now(), new ReadBudget(limits), READ_BATCH_MAX);
    // Nothing read and not stopped by a limit means nothing is readable up to the tail.
    const nextSeqNum = records.length > 0 ? records[records.length - 1]!.seqNum + 1 : end === "limit" ? fromSeqNum : tail.seqNum;
    return { records, tail, nextSeqNum, end };
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
    const catchUp: SequencedRecord[][] = [];
    for (let next = from; next < tail.seqNum;) {
      const { records, nextSeqNum } = this.#readFrom(next, {});
      if (records.length === 0) break;
      catchUp.push(records);
      next = nextSeqNum;
    }
    return this.#followers.accept(catchUp, tail, this.#guarded.isClosed());
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
    await this.#guarded.releaseSource();
    this.#followers.closeAll();
    await this.ctx.storage.deleteAll();
    this.#store.migrate();
    this.#meta = undefined;
    this.#guarded.forget();
  }

  override async alarm(): Promise<void> {
    await this.#guarded.alarm();
  }

  // Durable Streams (http/ds): each delegates to the stream's guarded rules or its fork source side.

  createGuarded(request: GuardedCreate): Promise<Result<GuardedCreated, StreamError>> {
    return this.#guarded.create(request);
  }

  appendGuarded(request: GuardedAppend): Result<GuardedAppendAck, StreamError> {
    return this.#guarded.append(request);
  }

  readGuarded(request: GuardedReadRequest): Result<GuardedRead, StreamError> {
    return this.#guarded.read(request);
  }

  describe(): Result<StreamDescription, StreamError> {
    return this.#guarded.describe();
  }

  deleteGuarded(): Promise<Result<void, StreamError>> {
    return this.#guarded.delete();
  }

  acquireFork(forkId: string, request: ForkPointRequest): Result<ForkGrant, StreamError> {
    return this.#forks.acquire(forkId, request);
  }

  copyForFork(forkId: string, fromSeqNum: number, endSeqNum: number): Result<ForkPage, StreamError> {
    return this.#forks.copy(forkId, fromSeqNum, endSeqNum);
  }

  releaseFork(forkId: string): Promise<Result<void, StreamError>> {
    return this.#forks.release(forkId);
  }

  watch(on: boolean): Result<void, StreamError> {
    return this.#guarded.watch(on);
  }
}
