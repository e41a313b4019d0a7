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
import type { AppendAck, AppendInput, ReadBatch, ReadRequest, StreamPosition } from "../domain/types";
import { err, ok, type Result } from "../lib/result";
import { StreamStore, type StreamMeta } from "../storage/stream-store";
import { RECORDS_PER_BATCH_MAX } from "../domain/limits";
import type { Env } from "../env";

export interface StreamInit {
  basin: string;
  stream: string;
  config: StreamConfig;
  createdAtMs: number;
}

const notFound = (): StreamError => streamError("stream_not_found", "stream not found");

export class StreamObject extends DurableObject<Env> {
  readonly #store: StreamStore;
  /** Mirror of stream_meta, so appends and reads need no metadata query; undefined until created. */
  #meta: StreamMeta | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new StreamStore(ctx.storage.sql);
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
    return ok(planned.value.ack);
  }

  read(request: ReadRequest): Result<ReadBatch, StreamError> {
    const meta = this.#meta;
    if (!meta) return err(notFound());
    const { tail, trimPoint } = meta.state;
    const start = resolveReadStart(request, tail);
    if (!start.ok) return start;
    const nowMs = Date.now();
    const fromSeqNum = start.value.kind === "seq_num"
      ? start.value.seqNum
      : this.#store.seqNumAtTimestamp(start.value.timestamp, trimPoint, nowMs) ?? tail.seqNum;
    const budget = new ReadBudget(request.limits);
    const records = this.#store.readRecords(fromSeqNum, trimPoint, nowMs, budget, RECORDS_PER_BATCH_MAX);
    return ok({ records });
  }

  checkTail(): Result<StreamPosition, StreamError> {
    return this.#meta ? ok(this.#meta.state.tail) : err(notFound());
  }

  /** Removes every trace of the stream; a stream recreated under the same name starts empty. */
  async destroy(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.#store.migrate();
    this.#meta = undefined;
  }
}
