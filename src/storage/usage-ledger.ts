/**
 * The usage of one Durable Object: the current minute in memory (a MinuteMeter), each finished minute as one
 * row (usage-store.ts). Counting is free of storage writes: the row of a minute is written once, by the first
 * count after the minute ended or by the alarm the ledger asks for at the minute's end, whichever comes first.
 * That is at most one row per minute with activity, never one per append or read (rows are billed per row
 * written).
 *
 * What an eviction or crash can lose: the counts of the current minute, which only memory holds. An object
 * idle after its last count is not evicted before its alarm fires at the end of that minute (idle objects
 * are evicted after tens of seconds to minutes, and an alarm is pending), so in practice the loss is the
 * counts of the minute in which the object restarted (a deploy, a crash, a reset) — reads and appends alike.
 */
import {
  bucketGauge, bucketUsage, minuteOf, MinuteMeter, type Counters, type GaugeSeries, type MinuteUsage, type UsageBucket,
  type UsageRange,
} from "../domain/usage";
import { UsageStore } from "./usage-store";

export interface LedgerHost {
  /** Asks for the object's alarm no later than `atMs` (never later than one already armed). */
  armBy(atMs: number): void;
  /** The object's stored bytes now, recorded with each finished minute; absent for objects storing no records. */
  sampleStorage?(): number;
}

/** Usage over a range: counters per bucket, and the stored-bytes gauge (only for objects that sample it). */
export interface UsageReport {
  buckets: UsageBucket[];
  storage: GaugeSeries;
}

export class UsageLedger {
  readonly #meter = new MinuteMeter();
  readonly #store: UsageStore;
  /** The minute end the alarm was last asked for, so a burst of counts asks once. */
  #armedForMs: number | null = null;

  constructor(sql: SqlStorage, private readonly host: LedgerHost) {
    this.#store = new UsageStore(sql);
    this.#store.migrate();
  }

  count(nowMs: number, delta: Counters): void {
    const finished = this.#meter.add(nowMs, delta);
    if (finished) this.#write(finished);
    this.#arm();
  }

  /** The object's alarm fired: a finished minute is stored, a minute still running asks for the alarm again. */
  alarm(nowMs: number): void {
    this.#armedForMs = null;
    const finished = this.#meter.takeFinished(nowMs);
    if (finished) this.#write(finished);
    this.#arm();
  }

  /**
   * Stored minutes and the running one, bucketed over the range. `liveStorageBytes` (null: none) is the
   * gauge's point for the current minute; stored minutes carry the samples taken when they were written.
   */
  report(range: UsageRange, nowMs: number, liveStorageBytes: number | null): UsageReport {
    const stored = this.#store.minutes(range.startSecs, range.endSecs);
    const running = this.#meter.peek();
    const minutes: MinuteUsage[] = running ? [...stored, running] : stored;
    const samples = stored.filter((m) => m.storageBytes !== null).map((m) => ({ minuteSecs: m.minuteSecs, value: m.storageBytes! }));
    if (liveStorageBytes !== null) samples.push({ minuteSecs: minuteOf(nowMs), value: liveStorageBytes });
    return {
      buckets: bucketUsage(minutes, range),
      storage: { before: this.#store.storageBefore(range.startSecs), points: bucketGauge(samples, range) },
    };
  }

  /** Storage was wiped (the object's deleteAll): nothing is held, and the table is back, empty. */
  reset(): void {
    this.#meter.take();
    this.#armedForMs = null;
    this.#store.migrate();
  }

  #write(minute: MinuteUsage): void {
    this.#store.write({ ...minute, storageBytes: this.host.sampleStorage?.() ?? null });
  }

  #arm(): void {
    const dueMs = this.#meter.dueMs();
    if (dueMs === null || dueMs === this.#armedForMs) return;
    this.#armedForMs = dueMs;
    this.host.armBy(dueMs);
  }
}

/**
 * `LedgerHost.armBy` for objects that set their alarm directly (the basin and account objects): moves the
 * alarm only earlier, so a pending cleanup alarm is never pushed back by usage.
 */
export async function armNoLaterThan(storage: DurableObjectStorage, atMs: number): Promise<void> {
  const armedAtMs = await storage.getAlarm();
  if (armedAtMs === null || armedAtMs > atMs) await storage.setAlarm(atMs);
}
