/**
 * StreamObject: one Durable Object per (basin, stream), the stream's single writer. It owns the stream's
 * metadata and its tail of records in SQLite. Each append is checked, sequenced and committed in one
 * transactionSync; its ack leaves only after the commit is durable, because the output gate holds every
 * outgoing message until earlier writes are confirmed (PLATFORM.md §1).
 *
 * Methods are RPC entry points returning Results; they never throw expected failures.
 */
import { DurableObject } from "cloudflare:workers";
import { planAppend, EMPTY_STREAM_STATE } from "../domain/append";
import { sameStreamConfig, type StreamConfig } from "../domain/config";
import { streamError, type StreamError } from "../domain/errors";
import { ReadBudget, resolveReadStart } from "../domain/read";
import type { AppendAck, AppendInput, ReadLimits, ReadRequest, SequencedRecord, StreamPosition } from "../domain/types";
import { err, ok, type Result } from "../lib/result";
import { StreamStore, type BatchSize, type ReadEnd, type StreamMeta } from "../storage/stream-store";
import { METERED_BYTES_PER_BATCH_MAX, RECORDS_PER_BATCH_MAX } from "../domain/limits";
import type { Env } from "../env";
import { LIVE_PATH } from "../protocol/live";
import { FOLLOW_GAP_RECORDS_MAX, Followers } from "./followers";

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
  /** Mirror of stream_meta, so appends and reads need no metadata query; undefined until created. */
  #meta: StreamMeta | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new StreamStore(ctx.storage.sql);
    this.#followers = new Followers(ctx);
    ctx.blockConcurrencyWhile(async () => {
      this.#store.migrate();
      this.#meta = this.#store.loadMeta();
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
    const planned = planAppend(meta.state, input, meta.config, arrivalMs);
    if (!planned.ok) return planned;
    const retention = meta.config.retentionPolicy;
    const expiresAtMs = retention.kind === "age" ? arrivalMs + retention.ageSecs * 1000 : null;
    this.ctx.storage.transactionSync(() => this.#store.appendBatch(planned.value.records, planned.value.state, expiresAtMs));
    meta.state = planned.value.state;
    this.#followers.push(planned.value.records, meta.state.tail);
    return ok(planned.value.ack);
  }

  /**
   * The first batch of a read: resolves the start (416 and clamp rules), then reads what the limits admit,
   * at most one batch. `nextSeqNum` is where a continuation or a live follow picks up.
   */
  read(request: ReadRequest): Result<ReadOutcome, StreamError> {
    const meta = this.#meta;
    if (!meta) return err(notFound());
    const { tail, trimPoint } = meta.state;
    const start = resolveReadStart(request, tail);
    if (!start.ok) return start;
    const fromSeqNum = start.value.kind === "seq_num"
      ? start.value.seqNum
      : this.#store.seqNumAtTimestamp(start.value.timestamp, trimPoint, Date.now()) ?? tail.seqNum;
    return ok(this.#readFrom(fromSeqNum, request.limits));
  }

  /** A continuation of a read already started: no start rules, the records from `seqNum` on. */
  readFrom(seqNum: number, limits: ReadLimits): Result<ReadOutcome, StreamError> {
    return this.#meta ? ok(this.#readFrom(seqNum, limits)) : err(notFound());
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
    const meta = this.#meta;
    if (!meta) return new Response(null, { status: 404 });
    const from = Number(url.searchParams.get("from"));
    const { tail } = meta.state;
    if (!Number.isSafeInteger(from) || from < 0 || from > tail.seqNum) return new Response(null, { status: 400 });
    if (tail.seqNum - from > FOLLOW_GAP_RECORDS_MAX) return new Response(null, { status: 409 });
    const catchUp: SequencedRecord[][] = [];
    for (let next = from; next < tail.seqNum;) {
      const { records, nextSeqNum } = this.#readFrom(next, {});
      if (records.length === 0) break;
      catchUp.push(records);
      next = nextSeqNum;
    }
    return this.#followers.accept(catchUp, tail);
  }

  checkTail(): Result<StreamPosition, StreamError> {
    return this.#meta ? ok(this.#meta.state.tail) : err(notFound());
  }

  /** Removes every trace of the stream; a stream recreated under the same name starts empty. */
  async destroy(): Promise<void> {
    this.#followers.closeAll();
    await this.ctx.storage.deleteAll();
    this.#store.migrate();
    this.#meta = undefined;
  }
}
