/**
 * Forks by copy (PROTOCOL.md §4.2): a fork's object copies its source's records up to the fork point, with
 * the same seq nums, so reads of the fork never reach the source and source appends never wake fork readers.
 * The source keeps a reference per live fork (fork_refs) only for the protocol's lifecycle: a deleted source
 * with forks is soft-deleted (410) until its last fork is deleted or expires, then reclaimed.
 *
 * The protocol between the two objects is three idempotent RPCs, keyed by the fork id `{fork name}@{fork
 * incarnation}`:
 *   acquireFork  validates the fork point and records the reference (a retry records nothing new)
 *   copyForFork  pages of the prefix; only a holder of a reference may read a soft-deleted source
 *   releaseFork  drops the reference (the fork was deleted, expired, or failed to finish its create)
 */
import { EMPTY_STREAM_STATE, type StreamState } from "../domain/append";
import { retentionExpiresAtMs } from "../domain/config";
import { invalid, streamError, type StreamError } from "../domain/errors";
import { isJsonType, mediaType, type ForkRequest, type Inheritance } from "../domain/lifecycle";
import type { SequencedRecord } from "../domain/types";
import { streamStub } from "../env";
import { err, ok, type Result } from "../lib/result";
import type { LifecycleStore } from "../storage/lifecycle-store";
import type { GuardedStream } from "./guarded-stream";
import type { GuardedCreate, GuardedCreated, StreamHost } from "./guarded-types";

export interface ForkPointRequest {
  seqNum: number | null;
  within: number;
  /** The fork's requested content type, which must match the source's; null inherits it. */
  contentType: string | null;
}

export interface ForkGrant {
  inherited: Inheritance;
  /** The fork point the request resolved to (its seq num, or the source's tail). */
  resolvedSeqNum: number;
  /** Records below this seq num are copied as they are. */
  copyEnd: number;
  /** A binary fork inside the record at `copyEnd`: that record cut to the requested bytes. */
  partial: SequencedRecord | null;
}

export interface ForkPage {
  records: SequencedRecord[];
  /** Where the next page starts. */
  nextSeqNum: number;
}

export const forkIdOf = (stream: string, incarnation: string): string => `${stream}@${incarnation}`;

/** The source side of forking, inside the source's object. */
export class ForkSource {
  constructor(
    private readonly host: StreamHost,
    private readonly guarded: GuardedStream,
    private readonly lifecycles: LifecycleStore,
  ) {}

  async acquire(forkId: string, request: ForkPointRequest): Promise<Result<ForkGrant, StreamError>> {
    const nowMs = Date.now();
    if (this.guarded.presence(nowMs) === "gone") {
      return err(streamError("stream_deletion_pending", "the fork source was deleted; it takes no new forks"));
    }
    const current = this.guarded.current(nowMs);
    if (!current.ok) return current;
    const { meta, lifecycle } = current.value;
    // Checked before the reference is taken: a refused fork must not hold its source (suite: "does not leak").
    if (request.contentType !== null && mediaType(request.contentType) !== mediaType(lifecycle.contentType)) {
      return err({ code: "content_type_mismatch", expected: lifecycle.contentType });
    }
    const { tail } = meta.state;
    const anchor = request.seqNum ?? tail.seqNum;
    if (anchor > tail.seqNum) return err({ code: "unwritten", tail });
    const point = await this.#within(anchor, request.within, isJsonType(lifecycle.contentType));
    if (!point.ok) return point;
    this.lifecycles.addForkRef(forkId, nowMs);
    const { contentType, ttlSecs, expiresAt } = lifecycle;
    return ok({ inherited: { contentType, ttlSecs, expiresAt }, resolvedSeqNum: anchor, ...point.value });
  }

  async copy(forkId: string, fromSeqNum: number, endSeqNum: number): Promise<Result<ForkPage, StreamError>> {
    if (!this.lifecycles.hasForkRef(forkId)) return err(streamError("stream_not_found", "fork source not held by this fork"));
    const read = await this.host.readFrom(fromSeqNum, { count: Math.max(0, endSeqNum - fromSeqNum) });
    if (!read.ok) return read;
    const { records } = read.value;
    const last = records[records.length - 1];
    return ok({ records, nextSeqNum: last ? last.seqNum + 1 : endSeqNum });
  }

  async release(forkId: string): Promise<Result<void, StreamError>> {
    this.lifecycles.removeForkRef(forkId);
    await this.guarded.onForkReleased();
    return ok(undefined);
  }

  /**
   * Where the copy ends for a fork `within` units past `anchor` (PROTOCOL.md §4.2 Stream-Fork-Sub-Offset):
   * JSON counts records of the append batch at the anchor, anything else bytes of the record there. Naming
   * a point past that append (or any point past an anchor with nothing after it) is a 400.
   */
  async #within(anchor: number, within: number, json: boolean): Promise<Result<Pick<ForkGrant, "copyEnd" | "partial">, StreamError>> {
    if (within === 0) return ok({ copyEnd: anchor, partial: null });
    const overshoot = invalid("Stream-Fork-Sub-Offset names a point past the append at Stream-Fork-Offset");
    if (json) {
      const batch = this.host.batchAt(anchor);
      return batch && anchor + within <= batch.end ? ok({ copyEnd: anchor + within, partial: null }) : err(overshoot);
    }
    const read = await this.host.readFrom(anchor, { count: 1 });
    if (!read.ok) return read;
    const record = read.value.records[0];
    if (!record || record.seqNum !== anchor || within > record.body.length) return err(overshoot);
    return ok({ copyEnd: anchor, partial: { ...record, body: record.body.slice(0, within) } });
  }
}

/**
 * The fork side of a create: takes a reference on the source, copies the prefix, then lets `commit` write the
 * fork's own state on top of it. Whatever fails after the reference was taken lets go of it again.
 */
export async function createFork(
  host: StreamHost,
  request: GuardedCreate,
  fork: ForkRequest,
  commit: (incarnation: string, grant: ForkGrant, prefix: StreamState) => Result<GuardedCreated, StreamError>,
): Promise<Result<GuardedCreated, StreamError>> {
  const incarnation = crypto.randomUUID();
  const { basin, stream, config } = request.init;
  // Its own source does not exist yet (it is being created), and asking it would wait on this very create.
  if (fork.source === stream) return err(streamError("stream_not_found", "fork source not found"));
  const source = streamStub(host.env, basin, fork.source);
  const forkId = forkIdOf(stream, incarnation);
  const grant = await source.acquireFork(forkId, { seqNum: fork.seqNum, within: fork.within, contentType: request.spec.contentType });
  if (!grant.ok) return grant;
  let created: Result<GuardedCreated, StreamError>;
  try {
    const prefix = await copyPrefix(host.store, source, forkId, grant.value, retentionExpiresAtMs(config, Date.now()));
    created = prefix.ok ? commit(incarnation, grant.value, prefix.value) : prefix;
  } catch (error) {
    await source.releaseFork(forkId);
    throw error;
  }
  if (!created.ok) {
    host.store.clearRecords();
    await source.releaseFork(forkId);
  }
  return created;
}

/**
 * The fork side: copies the granted prefix into this (still metaless, so still invisible) object, page by
 * page, and returns the stream state it leaves. Rows are written with their source seq nums, one row per run
 * of consecutive records (a trimmed source can have holes).
 */
async function copyPrefix(
  store: StreamHost["store"],
  source: ReturnType<typeof streamStub>,
  forkId: string,
  grant: ForkGrant,
  retentionMs: number | null,
): Promise<Result<StreamState, StreamError>> {
  store.clearRecords();
  let timestamp = 0;
  for (let next = 0; next < grant.copyEnd;) {
    const page = await source.copyForFork(forkId, next, grant.copyEnd);
    if (!page.ok) return page;
    for (const run of consecutiveRuns(page.value.records)) store.insertBatch(run, retentionMs);
    timestamp = page.value.records[page.value.records.length - 1]?.timestamp ?? timestamp;
    if (page.value.nextSeqNum <= next) break;
    next = page.value.nextSeqNum;
  }
  let seqNum = grant.copyEnd;
  if (grant.partial) {
    store.insertBatch([grant.partial], retentionMs);
    seqNum += 1;
    timestamp = grant.partial.timestamp;
  }
  return ok({ ...EMPTY_STREAM_STATE, tail: { seqNum, timestamp } });
}

function consecutiveRuns(records: readonly SequencedRecord[]): SequencedRecord[][] {
  const runs: SequencedRecord[][] = [];
  for (const record of records) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (run && last && last.seqNum + 1 === record.seqNum) run.push(record);
    else runs.push([record]);
  }
  return runs;
}
