/**
 * What a StreamObject counts and reports about itself: append and read usage per minute (a UsageLedger; see
 * there for what it writes and what an eviction can lose), and its storage for the metrics API and scrapes.
 *
 * Counting happens after the fact and never fails the operation counted: appends after their commit, reads
 * once their records are in hand, live deliveries as they are pushed to follower sockets.
 *
 * Storage is physical: packed tail rows in SQLite plus sealed segment objects in R2. Seal lag is the age of
 * the oldest tail row, i.e. how long the oldest unsealed record has waited for object storage.
 */
import type { StorageClass } from "../domain/config";
import type { AppendPayload } from "../domain/lifecycle";
import { appendCounters, appendCountersOf, guardedAppendBytes, readCounters, type ReadKind, type UsageRange } from "../domain/usage";
import type { SequencedRecord } from "../domain/types";
import type { SegmentIndex } from "../storage/segment-index";
import type { StreamStore } from "../storage/stream-store";
import { UsageLedger, type UsageReport } from "../storage/usage-ledger";

/** A stream's storage and sealing state now (for scrapes). */
export interface StreamStats {
  /** tailBytes + segmentBytes. */
  storageBytes: number;
  /** Packed bytes of the unsealed tail rows (SQLite). */
  tailBytes: number;
  tailRows: number;
  /** Bytes of sealed segment objects (R2). */
  segmentBytes: number;
  /** How long the oldest unsealed row has waited (ms); 0 when the tail is empty. */
  sealLagMs: number;
  /** Live followers: Worker relays subscribed to new appends. */
  followers: number;
}

export interface StreamUsageSource {
  store: StreamStore;
  segmentIndex: SegmentIndex;
  followers(): number;
  armBy(atMs: number): void;
}

export class StreamUsage {
  readonly #ledger: UsageLedger;

  constructor(sql: SqlStorage, private readonly source: StreamUsageSource) {
    this.#ledger = new UsageLedger(sql, { armBy: (atMs) => source.armBy(atMs), sampleStorage: () => this.storageBytes() });
  }

  countAppend(nowMs: number, storageClass: StorageClass, records: readonly SequencedRecord[]): void {
    this.#ledger.count(nowMs, appendCounters(storageClass, records));
  }

  /** A committed Durable Streams append of `records` records (a close without a body is an op of none). */
  countGuardedAppend(nowMs: number, storageClass: StorageClass, records: number, payload: AppendPayload): void {
    this.#ledger.count(nowMs, appendCountersOf(storageClass, records, guardedAppendBytes(payload, records)));
  }

  /** `ops`: 1 for the first read of a request or session, 0 for continuations; `copies`: readers of a live push. */
  countRead(nowMs: number, kind: ReadKind, ops: number, records: readonly SequencedRecord[], copies = 1): void {
    if (ops === 0 && (records.length === 0 || copies === 0)) return;
    this.#ledger.count(nowMs, readCounters(kind, ops, records, copies));
  }

  alarm(nowMs: number): void {
    this.#ledger.alarm(nowMs);
  }

  reset(): void {
    this.#ledger.reset();
  }

  /** Usage over the range; the storage gauge only while the stream exists. */
  report(range: UsageRange, nowMs: number, exists: boolean): UsageReport {
    return this.#ledger.report(range, nowMs, exists ? this.storageBytes() : null);
  }

  storageBytes(): number {
    return this.source.store.tailStats().bytes + this.source.segmentIndex.sizeBytes();
  }

  stats(nowMs: number): StreamStats {
    const tail = this.source.store.tailStats();
    const segmentBytes = this.source.segmentIndex.sizeBytes();
    return {
      storageBytes: tail.bytes + segmentBytes, tailBytes: tail.bytes, tailRows: tail.rows, segmentBytes,
      sealLagMs: tail.oldestWrittenMs === null ? 0 : Math.max(0, nowMs - tail.oldestWrittenMs),
      followers: this.source.followers(),
    };
  }
}
