/**
 * SubscriptionObject: one per basin, every Durable Streams subscription of that basin (PROTOCOL.md §6–7):
 * configs, stream links with their acked positions, the wake in flight, leases, webhook retries, and the
 * Ed25519 key webhooks are signed with.
 *
 * Streams report to it, never the reverse on the hot path: a linked stream's object is marked watched and
 * tells this object its new tail after each append (not awaited by the writer); a Durable Streams create
 * tells it about the new stream, which pattern subscriptions link before its first records. A wake is
 * issued when a linked stream is past its ack and no wake is in flight; the alarm expires leases and
 * retries failing webhooks. Methods return Results; their errors are the protocol's own codes.
 */
import { DurableObject } from "cloudflare:workers";
import { canonicalJson } from "../domain/config";
import {
  isPending, matchesGlob, subscriptionError, type Claim, type SubscriptionConfig, type SubscriptionError, type Wake,
} from "../domain/subscription";
import { streamStub, type Env } from "../env";
import { toBase64 } from "../lib/bytes";
import { err, ok, type Result } from "../lib/result";
import type { SubscriptionView, WakeReport } from "../protocol/ds/subscription-json";
import { SubscriptionStore, type SigningKey, type SubscriptionRecord } from "../storage/subscription-store";
import { deliverWebhook, retryDelayMs, wakeEvent } from "./subscription-delivery";
import { linkStreams, refreshTails, streamsMatching, unwatchUnlinked } from "./subscription-links";
import { newSigningKey, renderJwks } from "./webhook-signing";

const notFound = () => err(subscriptionError("NOT_FOUND", "no such subscription"));
const fenced = () => err(subscriptionError("FENCED", "this wake is no longer current"));
const newToken = () => toBase64(crypto.getRandomValues(new Uint8Array(24))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** Compares secrets in time independent of where they differ. */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

export class SubscriptionObject extends DurableObject<Env> {
  readonly #store: SubscriptionStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new SubscriptionStore(ctx.storage.sql);
  }

  /** PUT: 201 for a new subscription, 200 for the identical config, 409 for another (PROTOCOL.md §6.2). */
  async put(basin: string, id: string, config: SubscriptionConfig, streamRoot: string):
    Promise<Result<{ created: boolean; view: SubscriptionView }, SubscriptionError>> {
    this.#store.rememberBasin(basin);
    const configHash = canonicalJson(config);
    const existing = this.#store.get(id);
    if (existing) {
      if (existing.configHash !== configHash) return err(subscriptionError("CONFLICT", "subscription exists with another configuration"));
      return ok({ created: false, view: this.#view(existing) });
    }
    const record: SubscriptionRecord = {
      id, config, configHash, streamRoot, createdAtMs: Date.now(), generation: 0, wake: null, failing: false, attempts: 0, nextAttemptAtMs: null,
    };
    this.#store.save(record);
    if (config.type === "webhook") await this.#signingKey();
    await linkStreams(this.env, this.#store, basin, id, config.streams, "explicit");
    if (config.pattern !== null) await linkStreams(this.env, this.#store, basin, id, await streamsMatching(this.env, basin, config.pattern), "glob");
    return ok({ created: true, view: this.#view(record) });
  }

  get(id: string): Result<SubscriptionView, SubscriptionError> {
    const record = this.#store.get(id);
    return record ? ok(this.#view(record)) : notFound();
  }

  /** DELETE: the subscription and its links go; callbacks for its wakes fail from now on. */
  async delete(basin: string, id: string): Promise<Result<void, SubscriptionError>> {
    if (!this.#store.get(id)) return notFound();
    await unwatchUnlinked(this.env, this.#store, basin, this.#store.delete(id));
    await this.#schedule();
    return ok(undefined);
  }

  async addStreams(basin: string, id: string, paths: string[]): Promise<Result<void, SubscriptionError>> {
    if (!this.#store.get(id)) return notFound();
    await linkStreams(this.env, this.#store, basin, id, paths, "explicit");
    return ok(undefined);
  }

  /** Drops only the explicit link: a glob link of the same path stays (PROTOCOL.md §6.4). */
  async removeStream(basin: string, id: string, path: string): Promise<Result<void, SubscriptionError>> {
    if (!this.#store.get(id)) return notFound();
    const link = this.#store.link(id, path);
    if (link) this.#store.saveLink(id, { ...link, explicit: false });
    await unwatchUnlinked(this.env, this.#store, basin, [path]);
    return ok(undefined);
  }

  /**
   * A stream was created through Durable Streams: pattern subscriptions link it before its first records,
   * and existing links of the path (an earlier stream of that name) start over.
   */
  async streamCreated(basin: string, path: string, tailSeqNum: number): Promise<void> {
    this.#store.rememberBasin(basin);
    const touched: string[] = [];
    for (const record of this.#store.all()) {
      const link = this.#store.link(record.id, path);
      const glob = record.config.pattern !== null && matchesGlob(record.config.pattern, path);
      if (!link && !glob) continue;
      this.#store.saveLink(record.id, { path, explicit: link?.explicit ?? false, glob: glob || (link?.glob ?? false), ackedSeqNum: 0, tailSeqNum });
      touched.push(record.id);
    }
    if (touched.length === 0) return;
    await streamStub(this.env, basin, path).watch(true);
    for (const id of touched) await this.#maybeWake(basin, id);
  }

  /** A watched stream's tail moved. */
  async streamAppended(basin: string, path: string, tailSeqNum: number): Promise<void> {
    for (const id of this.#store.linkedBy(path)) {
      const link = this.#store.link(id, path)!;
      if (tailSeqNum > link.tailSeqNum) this.#store.saveLink(id, { ...link, tailSeqNum });
      await this.#maybeWake(basin, id);
    }
  }

  /** Pull-wake: the first worker to claim a pending wake holds its lease (PROTOCOL.md §7.2). */
  async claim(basin: string, id: string, worker: string): Promise<Result<Claim, SubscriptionError>> {
    let record = this.#store.get(id);
    if (!record) return notFound();
    const nowMs = Date.now();
    const held = record.wake?.holder;
    if (held && record.wake!.leaseExpiresAtMs! > nowMs) {
      return err({ code: "ALREADY_CLAIMED", message: "another worker holds the lease", currentHolder: held, generation: record.generation });
    }
    if (held) record = this.#end(record);
    // Appends may not have reported yet: a claim asks the streams themselves.
    await refreshTails(this.env, this.#store, basin, id);
    if (!record.wake) {
      if (!this.#store.links(id).some(isPending)) return err(subscriptionError("NOTHING_TO_CLAIM", "no stream has pending records"));
      record = this.#issue(record, nowMs);
    }
    const wake: Wake = { ...record.wake!, token: newToken(), holder: worker, leaseExpiresAtMs: nowMs + record.config.leaseTtlMs, streams: this.#snapshot(id) };
    this.#store.save({ ...record, wake });
    await this.#schedule();
    return ok({ wake, generation: record.generation, leaseTtlMs: record.config.leaseTtlMs });
  }

  /**
   * Callback (webhook) and ack (pull-wake): acks apply; `done` ends the wake (and a new one starts if records
   * are still pending), otherwise the lease is extended. Release ends the wake without acks.
   */
  async answer(basin: string, id: string, token: string, report: WakeReport, release = false):
    Promise<Result<{ nextWake: boolean }, SubscriptionError>> {
    const record = this.#store.get(id);
    if (!record) return notFound();
    const wake = record.wake;
    const nowMs = Date.now();
    if (!wake || wake.token === null || !sameSecret(token, wake.token) || report.wakeId !== wake.id ||
      report.generation !== record.generation || (wake.leaseExpiresAtMs !== null && wake.leaseExpiresAtMs <= nowMs)) return fenced();
    for (const ack of report.acks) {
      const link = this.#store.link(id, ack.stream);
      if (link && ack.seqNum > link.ackedSeqNum) this.#store.saveLink(id, { ...link, ackedSeqNum: ack.seqNum });
    }
    if (!report.done && !release) {
      this.#store.save({ ...record, wake: { ...wake, leaseExpiresAtMs: nowMs + record.config.leaseTtlMs } });
      await this.#schedule();
      return ok({ nextWake: false });
    }
    this.#end(record);
    return ok({ nextWake: await this.#maybeWake(basin, id) });
  }

  async jwks(): Promise<ReturnType<typeof renderJwks>> {
    await this.#signingKey();
    return renderJwks(this.#store.publicKeys());
  }

  /** Expired leases end their wake (and pending records start a new one); failing webhooks are retried. */
  override async alarm(): Promise<void> {
    const basin = this.#store.basin();
    if (!basin) return;
    const nowMs = Date.now();
    for (const record of this.#store.all()) {
      if (record.wake?.leaseExpiresAtMs != null && record.wake.leaseExpiresAtMs <= nowMs) {
        this.#end(record);
        await this.#maybeWake(basin, record.id);
      } else if (record.failing && record.nextAttemptAtMs !== null && record.nextAttemptAtMs <= nowMs) {
        await this.#deliver(basin, record.id);
      }
    }
    await this.#schedule();
  }

  #view(record: SubscriptionRecord): SubscriptionView {
    return {
      id: record.id, config: record.config, createdAtMs: record.createdAtMs, failing: record.failing,
      links: this.#store.links(record.id), streamRoot: record.streamRoot, kid: this.#store.signingKey()?.kid ?? null,
    };
  }

  #snapshot(id: string) {
    return this.#store.links(id).map(({ path, explicit, ackedSeqNum, tailSeqNum }) => ({ path, explicit, ackedSeqNum, tailSeqNum }));
  }

  /** A new generation and wake over the current links; webhooks hold the lease from the start. */
  #issue(record: SubscriptionRecord, nowMs: number): SubscriptionRecord {
    const webhook = record.config.type === "webhook";
    const wake: Wake = {
      id: `w_${newToken().slice(0, 16)}`, token: webhook ? newToken() : null, holder: webhook ? "webhook" : null,
      leaseExpiresAtMs: webhook ? nowMs + record.config.leaseTtlMs : null, streams: this.#snapshot(record.id),
    };
    const issued = { ...record, generation: record.generation + 1, wake, failing: false, attempts: 0, nextAttemptAtMs: null };
    this.#store.save(issued);
    return issued;
  }

  #end(record: SubscriptionRecord): SubscriptionRecord {
    const ended = { ...record, wake: null, failing: false, attempts: 0, nextAttemptAtMs: null };
    this.#store.save(ended);
    return ended;
  }

  /** Issues a wake if records are pending and none is in flight; reports whether it did. */
  async #maybeWake(basin: string, id: string): Promise<boolean> {
    const record = this.#store.get(id);
    if (!record || record.wake || !this.#store.links(id).some(isPending)) return false;
    const issued = this.#issue(record, Date.now());
    if (issued.config.type === "webhook") {
      // Not awaited: the caller (an append's report, a callback) must not wait for a receiver.
      void this.#deliver(basin, id).catch((error) => console.error(`SubscriptionObject: delivery for ${id} failed`, error));
    } else {
      // The wake stream is the application's (PROTOCOL.md §7.2): a missing one leaves the wake to a claim.
      const pending = issued.wake!.streams.find(isPending)!;
      const event = wakeEvent(issued, pending.path, Date.now());
      const appended = await streamStub(this.env, basin, issued.config.wakeStream!).appendGuarded({
        contentType: "application/json", payload: { bytes: event, messages: ok([event]) }, close: false, producer: null, streamSeq: null,
      });
      if (!appended.ok) console.error(`SubscriptionObject: wake event for ${id} not written`, appended.error);
    }
    await this.#schedule();
    return true;
  }

  async #deliver(basin: string, id: string): Promise<void> {
    const record = this.#store.get(id);
    const wake = record?.wake;
    if (!record || !wake || record.config.type !== "webhook") return;
    const delivery = await deliverWebhook(record, await this.#signingKey(), Date.now());
    const current = this.#store.get(id);
    if (!current || current.wake?.id !== wake.id) return;
    if (delivery.kind === "failed") {
      const attempts = current.attempts + 1;
      this.#store.save({ ...current, failing: true, attempts, nextAttemptAtMs: Date.now() + retryDelayMs(attempts) });
    } else if (delivery.done) {
      // `{"done": true}`: the receiver processed the snapshot; its tails are acked (PROTOCOL.md §7.1).
      for (const stream of wake.streams) {
        const link = this.#store.link(id, stream.path);
        if (link && stream.tailSeqNum > link.ackedSeqNum) this.#store.saveLink(id, { ...link, ackedSeqNum: stream.tailSeqNum });
      }
      this.#end(current);
      await this.#maybeWake(basin, id);
    } else {
      this.#store.save({ ...current, failing: false, attempts: 0, nextAttemptAtMs: null });
    }
    await this.#schedule();
  }

  async #signingKey(): Promise<SigningKey> {
    const existing = this.#store.signingKey();
    if (existing) return existing;
    const key = await newSigningKey();
    this.#store.saveSigningKey(key, Date.now());
    // Two racing first uses may each store a key: both are published, and the newest signs.
    return this.#store.signingKey()!;
  }

  /** One alarm for the earliest lease expiry or webhook retry. */
  async #schedule(): Promise<void> {
    let next = Infinity;
    for (const record of this.#store.all()) {
      next = Math.min(next, record.wake?.leaseExpiresAtMs ?? Infinity, record.failing ? record.nextAttemptAtMs ?? Infinity : Infinity);
    }
    if (next === Infinity) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }
}
