/**
 * Sealing: the oldest tail rows of a stream become one immutable R2 segment, off the append path (the alarm
 * runs it). The order is what keeps acknowledged records safe (DESIGN.md §2):
 *
 *   1. read the oldest rows and encode them (segment-codec.ts);
 *   2. put the segment to R2 under its unique, create-only key;
 *   3. in ONE SQLite transaction: insert its index row and delete those tail rows — but only if the rows are
 *      still exactly there (a trim may have dropped some during step 2; then nothing is committed);
 *   4. objects whose commit never happened (step 2 done, step 3 lost to a crash, an eviction or a refusal)
 *      are orphans no index row points to; `sweep` deletes them later.
 *
 * Until step 3 commits, readers read the rows; after it, the segment. Either way every record is in exactly
 * one place. A failure anywhere leaves the rows in the tail, and the next alarm seals them again under a new
 * key (segment-store.ts); the first attempt's object is an orphan for the sweep. A commit refused in step 3
 * deletes its object at once. Sweeps skip the keys of seals still in flight in this object: such a key is
 * unreferenced only until its commit.
 *
 * Encoding is the CPU-heavy step of a seal in the object (a CRC over every byte, a copy into one buffer), and a
 * stream's object runs one thing at a time: encoded in one go, an 8 MiB segment held every append behind it.
 * So it is encoded in slices with a pause between them in which appends run. That is safe for the same reason
 * the R2 put is: appends only add rows after the ones being sealed, and the commit re-checks those rows.
 */
import { SEGMENT_BLOCKS_MAX, type SegmentIndex, type SegmentBlock } from "../storage/segment-index";
import { encodeSegment, type EncodedSegment, type SegmentBlockInput } from "../storage/segment-codec";
import { segmentKey, type SegmentStore } from "../storage/segment-store";
import type { StreamStore } from "../storage/stream-store";
import { needsSeal, type SealPolicy } from "./seal-policy";

/** Bytes encoded between pauses: bounds how long an append waits behind a seal's encoding. */
const ENCODE_SLICE_BYTES = 1024 * 1024;

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Test hooks between the steps, to prove each crash point safe. */
export interface SealFaults {
  afterPut?: () => void;
}

export class Sealer {
  /** Keys of seals between their put and their commit: not orphans, whatever the index says yet. */
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly store: StreamStore,
    private readonly index: SegmentIndex,
    private readonly segments: SegmentStore,
    private readonly transact: <T>(fn: () => T) => T,
    private readonly policy: SealPolicy,
  ) {}

  /** Seals segments until the tail is within policy; returns how many it sealed. Throws if R2 fails. */
  async sealAll(keyPrefix: string, nowMs: number, faults?: SealFaults): Promise<number> {
    let sealed = 0;
    while (needsSeal(this.store.tailStats(), this.policy, nowMs)) {
      if (!(await this.sealOnce(keyPrefix, nowMs, faults))) break;
      sealed++;
    }
    return sealed;
  }

  async sealOnce(keyPrefix: string, nowMs: number, faults?: SealFaults): Promise<boolean> {
    const rows = this.store.oldestRows(this.policy.segmentBytesTarget, SEGMENT_BLOCKS_MAX);
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (!first || !last) return false;
    const encoded = await encodeInSlices(rows);
    const objectKey = segmentKey(keyPrefix, first.startSeqNum, last.endSeqNum);
    this.#inFlight.add(objectKey);
    try {
      await this.segments.put(objectKey, encoded.bytes);
      faults?.afterPut?.();
      const blocks: SegmentBlock[] = encoded.blocks.map((block, i) => ({ ...block, endSeqNum: rows[i]!.endSeqNum, expiresAtMs: rows[i]!.expiresAtMs }));
      const expiries = rows.map((row) => row.expiresAtMs);
      const committed = this.transact(() => {
        if (!this.store.rowsIntact(first.startSeqNum, last.endSeqNum, rows.length)) return false;
        this.index.insert({
          startSeqNum: first.startSeqNum,
          endSeqNum: last.endSeqNum,
          lastTimestamp: last.lastTimestamp,
          objectKey,
          sizeBytes: encoded.bytes.length,
          expiresAtMs: expiries.includes(null) ? null : Math.max(...(expiries as number[])),
          blocks,
        }, nowMs);
        this.store.deleteRows(first.startSeqNum, last.endSeqNum);
        return true;
      });
      // Nothing references the object of a refused commit; if this delete fails, the sweep finds it.
      if (!committed) await this.segments.delete([objectKey]).catch(() => undefined);
      return committed;
    } finally {
      this.#inFlight.delete(objectKey);
    }
  }

  async deleteObjects(keys: readonly string[]): Promise<void> {
    await this.segments.delete(keys);
  }

  /** Every segment object under the prefix, referenced or not: the stream is being deleted. */
  async sweepAll(keyPrefix: string): Promise<void> {
    const listed = await this.segments.list(keyPrefix);
    if (listed.length > 0) await this.segments.delete(listed.map((object) => object.key));
  }

  /** Deletes segment objects under the stream's prefix that no index row references (crashed seals). */
  async sweep(keyPrefix: string): Promise<number> {
    const listed = await this.segments.list(keyPrefix);
    const referenced = this.index.keys();
    const orphans = listed.map((object) => object.key).filter((key) => !referenced.has(key) && !this.#inFlight.has(key));
    if (orphans.length > 0) await this.segments.delete(orphans);
    return orphans.length;
  }
}

async function encodeInSlices(rows: readonly SegmentBlockInput[]): Promise<EncodedSegment> {
  const steps = encodeSegment(rows);
  let pausedAt = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (step.value - pausedAt >= ENCODE_SLICE_BYTES) {
      pausedAt = step.value;
      await pause();
    }
  }
}
