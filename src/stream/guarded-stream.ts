/**
 * The Durable Streams rules of one stream, inside its StreamObject (DESIGN.md §4): creation with a content
 * type, expiry and fork lineage; appends guarded by the closed flag, content type, idempotent producers and
 * Stream-Seq, checked and committed with the records in one transactionSync; reads that touch a sliding TTL;
 * soft delete while forks hold the stream; and expiry, enforced lazily on every access (a stream is gone the
 * moment it expires) with an alarm that reclaims the storage later.
 *
 * The S2 paths of the object ask `checkReadable` / `checkAppendable` so an expired, deleted or closed stream
 * looks the same through both protocols.
 */
import { EMPTY_STREAM_STATE, planAppends, type StreamState } from "../domain/append";
import { retentionExpiresAtMs } from "../domain/config";
import { streamError, type StreamError } from "../domain/errors";
import { decideAppend, type GuardedAppend } from "../domain/guarded-append";
import {
  defaultLifecycle, expiresAtMs, isExpired, matchesSpec, newLifecycle, recordBodies, type CreateSpec, type StreamLifecycle,
} from "../domain/lifecycle";
import type { StreamPosition } from "../domain/types";
import { basinStub, streamStub, subscriptionsStub } from "../env";
import { err, ok, type Result } from "../lib/result";
import type { LifecycleStore } from "../storage/lifecycle-store";
import type { StreamMeta } from "../storage/stream-store";
import type {
  GuardedAppendAck, GuardedCreate, GuardedCreated, GuardedRead, GuardedReadRequest, StreamDescription,
  StreamHost,
} from "./guarded-types";
import { createFork, forkIdOf } from "./stream-forks";

type Presence =
  | { kind: "absent" }
  /** Expired and held by no fork: as good as absent; its storage is reclaimed by the alarm or a new create. */
  | { kind: "expired" }
  /** Deleted, or expired, while forks hold it. */
  | { kind: "gone" }
  | { kind: "live"; meta: StreamMeta; lifecycle: StreamLifecycle };

/** A sliding TTL's last access is stored at most this stale (see touch). */
const TOUCH_PERSIST_MS_MAX = 1_000;

const notFound = () => streamError("stream_not_found", "stream not found");
const gone = () => streamError("stream_gone", "stream was deleted; its forks still hold its data");

export class GuardedStream {
  /** Mirror of stream_lifecycle; undefined for a stream never touched through Durable Streams. */
  #lifecycle: StreamLifecycle | undefined;
  /** The last access as stored; the mirror runs ahead of it by less than TOUCH_PERSIST_MS_MAX. */
  #storedAccessMs = 0;

  constructor(private readonly host: StreamHost, private readonly lifecycles: LifecycleStore) {}

  load(): void {
    this.#lifecycle = this.lifecycles.load();
    this.#storedAccessMs = this.#lifecycle?.lastAccessMs ?? 0;
  }

  /** The stream was destroyed: nothing of it remains. */
  forget(): void {
    this.#lifecycle = undefined;
  }

  checkReadable(nowMs: number): Result<void, StreamError> {
    const live = this.#live(nowMs);
    return live.ok ? ok(undefined) : live;
  }

  checkAppendable(nowMs: number): Result<void, StreamError> {
    const live = this.#live(nowMs);
    if (!live.ok) return live;
    return live.value.lifecycle.closed ? err({ code: "stream_closed", tail: live.value.meta.state.tail }) : ok(undefined);
  }

  /**
   * A read or write reached the stream: the sliding window moves (inside the append's transaction, if any).
   * Storing every access would make each read a billed row write; the stored time may lag by less than
   * TOUCH_PERSIST_MS_MAX (or a tenth of the TTL), which only matters if the object is evicted meanwhile.
   */
  touch(nowMs: number): void {
    const ttlSecs = this.#lifecycle?.ttlSecs;
    if (ttlSecs == null) return;
    this.#lifecycle = { ...this.#lifecycle!, lastAccessMs: nowMs };
    if (nowMs - this.#storedAccessMs < Math.min(TOUCH_PERSIST_MS_MAX, ttlSecs * 100)) return;
    this.lifecycles.touch(nowMs);
    this.#storedAccessMs = nowMs;
  }

  isClosed(): boolean {
    return this.#lifecycle?.closed ?? false;
  }

  /** The lifecycle in force, for the fork side (stream-forks.ts). */
  current(nowMs: number): Result<{ meta: StreamMeta; lifecycle: StreamLifecycle }, StreamError> {
    return this.#live(nowMs);
  }

  /** Whether a create could take this stream's place: what the source of a fork asks about itself. */
  presence(nowMs: number): Presence["kind"] {
    return this.#presence(nowMs).kind;
  }

  async create(request: GuardedCreate): Promise<Result<GuardedCreated, StreamError>> {
    const existing = await this.#existing(request.spec);
    if (existing) return existing;
    const fork = request.spec.fork;
    const nowMs = Date.now();
    // A fork copies its prefix first; everything else waits meanwhile, so no request sees it half made.
    const created = fork
      ? await this.host.ctx.blockConcurrencyWhile(async () => await this.#existing(request.spec) ??
        createFork(this.host, request, fork, (incarnation, grant, prefix) => this.#commitCreate(request, nowMs,
          newLifecycle(request.spec, nowMs, incarnation, grant.inherited, { ...fork, resolvedSeqNum: grant.resolvedSeqNum }), prefix)))
      : this.#commitCreate(request, nowMs, newLifecycle(request.spec, nowMs, crypto.randomUUID()), EMPTY_STREAM_STATE);
    if (created.ok && created.value.created) await this.#armExpiry();
    return created;
  }

  append(request: GuardedAppend): Result<GuardedAppendAck, StreamError> {
    const nowMs = Date.now();
    const live = this.#live(nowMs);
    if (!live.ok) return live;
    const { meta, lifecycle } = live.value;
    const { producer } = request;
    const decided = decideAppend(request, {
      lifecycle, state: meta.state, config: meta.config, producer: producer ? this.lifecycles.producer(producer.id) : undefined, nowMs,
    });
    if (!decided.ok) return decided;
    const decision = decided.value;
    switch (decision.kind) {
      case "duplicate":
        return ok({ tail: meta.state.tail, closed: decision.closed, producer: decision.producer, duplicate: true });
      case "closed_again":
        this.touch(nowMs);
        return ok({ tail: meta.state.tail, closed: true, producer: null, duplicate: false });
      case "commit":
        break;
    }
    const { batches, lifecycle: next, producer: producerState } = decision;
    // Only what writes rows waits for room: a duplicate, a repeated close or a refusal is answered as ever.
    if (batches.length > 0) {
      const room = this.host.tailRoom();
      if (!room.ok) return room;
    }
    const retentionMs = retentionExpiresAtMs(meta.config, nowMs);
    this.host.ctx.storage.transactionSync(() => {
      for (const batch of batches) this.host.store.appendBatch(batch.records, batch.state, retentionMs);
      this.lifecycles.save(next);
      if (producer && producerState) this.lifecycles.saveProducer(producer.id, producerState, nowMs);
    });
    this.#remember(next);
    if (batches.length > 0) meta.state = batches[batches.length - 1]!.state;
    batches.forEach((batch, i) => this.host.followers.push(batch.records, meta.state.tail, request.close && i === batches.length - 1));
    if (batches.length === 0 && request.close) this.host.followers.push([], meta.state.tail, true);
    if (batches.length > 0) this.reportAppend(meta.state.tail);
    return ok({ tail: meta.state.tail, closed: next.closed, producer: producerState, duplicate: false });
  }

  async read(request: GuardedReadRequest): Promise<Result<GuardedRead, StreamError>> {
    const nowMs = Date.now();
    const live = this.#live(nowMs);
    if (!live.ok) return live;
    const tail = live.value.meta.state.tail.seqNum;
    const fromSeqNum = request.fromSeqNum === null ? tail : Math.min(request.fromSeqNum, tail);
    if (request.touch) this.touch(nowMs);
    const description = this.#describe(live.value.meta);
    const outcome = await this.host.readFrom(fromSeqNum, {});
    return outcome.ok ? ok({ ...description, outcome: outcome.value, fromSeqNum }) : outcome;
  }

  describe(): Result<StreamDescription, StreamError> {
    const live = this.#live(Date.now());
    return live.ok ? ok(this.#describe(live.value.meta)) : live;
  }

  /** DELETE: soft while forks hold the stream (PROTOCOL.md §4.2), otherwise gone at once. */
  async delete(): Promise<Result<void, StreamError>> {
    const live = this.#live(Date.now());
    if (!live.ok) return live;
    if (this.lifecycles.forkRefCount() === 0) {
      await this.#purge(live.value.meta);
      return ok(undefined);
    }
    const next = { ...live.value.lifecycle, softDeleted: true };
    this.#save(next);
    this.host.followers.closeAll();
    return ok(undefined);
  }

  /** Subscriptions link (or stop linking) this stream (control/subscription-object.ts). */
  watch(on: boolean): Result<void, StreamError> {
    const meta = this.host.meta();
    if (!meta) return err(notFound());
    const lifecycle = this.#lifecycle ?? defaultLifecycle(meta.createdAtMs);
    if (lifecycle.watched === on) return ok(undefined);
    const next = { ...lifecycle, watched: on };
    this.#save(next);
    return ok(undefined);
  }

  /**
   * After any append: a linked stream reports its new tail to its basin's subscriptions. Not awaited, so it
   * never delays the ack; a lost report is caught up by the next one, or by a claim, which asks the stream.
   */
  reportAppend(tail: StreamPosition): void {
    const meta = this.host.meta();
    if (!meta || !this.#lifecycle?.watched) return;
    void subscriptionsStub(this.host.env, meta.basin).streamAppended(meta.basin, meta.stream, tail.seqNum)
      .catch((error) => console.error(`StreamObject ${meta.basin}/${meta.stream}: subscription report failed`, error));
  }

  /** Before the object is emptied: a fork lets go of its source, which may then be reclaimed in turn. */
  async releaseSource(): Promise<void> {
    const meta = this.host.meta();
    const origin = this.#lifecycle?.fork;
    if (!meta || !origin) return;
    await streamStub(this.host.env, meta.basin, origin.source).releaseFork(forkIdOf(meta.stream, this.#lifecycle!.incarnation));
  }

  /** Expiry and soft delete end here once no fork holds the stream; a live stream re-arms for its expiry. */
  async alarm(): Promise<void> {
    const meta = this.host.meta();
    const lifecycle = this.#lifecycle;
    if (!meta || !lifecycle) return;
    if (!lifecycle.softDeleted && !isExpired(lifecycle, Date.now())) return this.#armExpiry();
    if (this.lifecycles.forkRefCount() === 0) await this.#purge(meta);
  }

  /** A fork let go: a stream that is only kept for its forks goes once the last one does. */
  async onForkReleased(): Promise<void> {
    const lifecycle = this.#lifecycle;
    if (!lifecycle || this.lifecycles.forkRefCount() > 0) return;
    if (lifecycle.softDeleted || isExpired(lifecycle, Date.now())) await this.host.armAlarm(Date.now());
  }

  #save(lifecycle: StreamLifecycle): void {
    this.lifecycles.save(lifecycle);
    this.#remember(lifecycle);
  }

  /** The mirror after a committed save. */
  #remember(lifecycle: StreamLifecycle): void {
    this.#lifecycle = lifecycle;
    this.#storedAccessMs = lifecycle.lastAccessMs;
  }

  #presence(nowMs: number): Presence {
    const meta = this.host.meta();
    if (!meta) return { kind: "absent" };
    const lifecycle = this.#lifecycle ?? defaultLifecycle(meta.createdAtMs);
    if (lifecycle.softDeleted) return { kind: "gone" };
    if (isExpired(lifecycle, nowMs)) return this.lifecycles.forkRefCount() > 0 ? { kind: "gone" } : { kind: "expired" };
    return { kind: "live", meta, lifecycle };
  }

  #live(nowMs: number): Result<{ meta: StreamMeta; lifecycle: StreamLifecycle }, StreamError> {
    const presence = this.#presence(nowMs);
    if (presence.kind === "live") return ok(presence);
    return err(presence.kind === "gone" ? gone() : notFound());
  }

  #describe(meta: StreamMeta): StreamDescription {
    const lifecycle = this.#lifecycle ?? defaultLifecycle(meta.createdAtMs);
    return {
      tail: meta.state.tail, closed: lifecycle.closed, contentType: lifecycle.contentType, ttlSecs: lifecycle.ttlSecs,
      expiresAtText: lifecycle.expiresAt?.text ?? null, incarnation: lifecycle.incarnation, expiresAtMs: expiresAtMs(lifecycle),
    };
  }

  /** Answers a create for a name that is taken; undefined when the name is free (an expired stream is wiped). */
  async #existing(spec: CreateSpec): Promise<Result<GuardedCreated, StreamError> | undefined> {
    for (;;) {
      const presence = this.#presence(Date.now());
      switch (presence.kind) {
        case "absent":
          return undefined;
        case "expired":
          await this.host.destroy();
          continue;
        case "gone":
          return err(streamError("stream_deletion_pending", "a deleted stream still held by forks has this name"));
        case "live": {
          const { meta, lifecycle } = presence;
          if (!matchesSpec(lifecycle, spec)) return err(streamError("resource_already_exists", "stream exists with a different configuration"));
          return ok({ created: false, tail: meta.state.tail, contentType: lifecycle.contentType, closed: lifecycle.closed });
        }
      }
    }
  }

  /** The new stream's meta, lifecycle and initial records, in one transaction on top of any copied prefix. */
  #commitCreate(request: GuardedCreate, nowMs: number, lifecycle: StreamLifecycle, state: StreamState): Result<GuardedCreated, StreamError> {
    const bodies = recordBodies(request.payload, lifecycle.contentType, "allow");
    if (!bodies.ok) return bodies;
    const meta: StreamMeta = { ...request.init, state };
    const planned = planAppends(state, bodies.value.map((body) => ({ headers: [], body })), meta.config, nowMs);
    if (!planned.ok) return planned;
    const retentionMs = retentionExpiresAtMs(meta.config, nowMs);
    this.host.ctx.storage.transactionSync(() => {
      if (request.spec.fork === null) this.host.store.clearRecords();
      this.host.store.createMeta(meta);
      for (const batch of planned.value) this.host.store.appendBatch(batch.records, batch.state, retentionMs);
      this.lifecycles.save(lifecycle);
    });
    const batches = planned.value;
    if (batches.length > 0) meta.state = batches[batches.length - 1]!.state;
    this.host.setMeta(meta);
    this.#remember(lifecycle);
    return ok({ created: true, tail: meta.state.tail, contentType: lifecycle.contentType, closed: lifecycle.closed });
  }

  async #purge(meta: StreamMeta): Promise<void> {
    // Through the basin, as an S2 delete goes, so the stream also leaves its listing; the basin then empties
    // this object (destroy). A stream the registry never knew is emptied directly.
    const deleted = await basinStub(this.host.env, meta.basin).deleteStream(meta.basin, meta.stream);
    if (!deleted.ok || this.host.meta()) await this.host.destroy();
  }

  async #armExpiry(): Promise<void> {
    const lifecycle = this.#lifecycle;
    const at = lifecycle ? expiresAtMs(lifecycle) : null;
    if (at !== null) await this.host.armAlarm(at);
  }
}
