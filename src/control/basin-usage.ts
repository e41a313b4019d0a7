/**
 * The fan-outs behind basin-wide metrics: a BasinObject asks each of its streams' objects for their usage
 * (the S2 metrics API) or their storage (Prometheus scrapes) and adds the answers up. Bounded twice: at most
 * BASIN_FANOUT_STREAMS_MAX streams (the first in name order; the rest are left out and the answer says it is
 * truncated), at most FANOUT_CONCURRENCY calls in flight. A stream whose object fails to answer is left out
 * too (logged), so one broken stream does not take a basin's metrics down.
 */
import { BASIN_FANOUT_STREAMS_MAX, mergeBuckets, sumGauges, type SeriesPoint, type UsageBucket, type UsageRange } from "../domain/usage";
import { streamStub, type Env } from "../env";
import { mapBounded } from "../lib/map-bounded";
import type { UsageReport } from "../storage/usage-ledger";
import type { StreamStats } from "../stream/stream-usage";

/** RPCs in flight at once during a fan-out. */
const FANOUT_CONCURRENCY = 16;

/** The usage of a basin's streams over a range, merged: counters summed per bucket, storage summed as a gauge. */
export interface BasinStreamsUsage {
  buckets: UsageBucket[];
  storage: SeriesPoint[];
  /** Streams that answered. */
  streams: number;
  /** More streams exist than the fan-out reaches. */
  truncated: boolean;
}

/** Storage and sealing of a basin's streams now, added up (seal lag: the worst stream's). */
export interface BasinStats {
  streams: number;
  truncated: boolean;
  storageBytes: number;
  tailBytes: number;
  segmentBytes: number;
  sealLagMsMax: number;
  followers: number;
}

async function fanOut<T>(basin: string, names: readonly string[], call: (name: string) => Promise<T | undefined>): Promise<T[]> {
  const answers = await mapBounded(names.slice(0, BASIN_FANOUT_STREAMS_MAX), FANOUT_CONCURRENCY, async (name) => {
    try {
      return await call(name);
    } catch (error) {
      console.error(`BasinObject ${basin}: metrics of stream ${name} failed; left out`, error);
      return undefined;
    }
  });
  return answers.filter((answer): answer is T => answer !== undefined);
}

/** `names`: the basin's live streams in name order, up to one more than the cap (to tell truncation). */
export async function streamsUsage(env: Env, basin: string, names: readonly string[], range: UsageRange): Promise<BasinStreamsUsage> {
  const reports: UsageReport[] = await fanOut(basin, names, (name) => streamStub(env, basin, name).usage(range));
  return {
    buckets: mergeBuckets(reports.map((r) => r.buckets)),
    storage: sumGauges(reports.map((r) => r.storage), range),
    streams: reports.length,
    truncated: names.length > BASIN_FANOUT_STREAMS_MAX,
  };
}

export async function streamsStats(env: Env, basin: string, names: readonly string[]): Promise<BasinStats> {
  const all: StreamStats[] = await fanOut(basin, names, async (name) => (await streamStub(env, basin, name).stats()) ?? undefined);
  const total: BasinStats = {
    streams: all.length, truncated: names.length > BASIN_FANOUT_STREAMS_MAX,
    storageBytes: 0, tailBytes: 0, segmentBytes: 0, sealLagMsMax: 0, followers: 0,
  };
  for (const stats of all) {
    total.storageBytes += stats.storageBytes;
    total.tailBytes += stats.tailBytes;
    total.segmentBytes += stats.segmentBytes;
    total.sealLagMsMax = Math.max(total.sealLagMsMax, stats.sealLagMs);
    total.followers += stats.followers;
  }
  return total;
}
