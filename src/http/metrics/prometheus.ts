/**
 * `GET /metrics` (no `/v1`, as s2-lite; S2-API §1.3): Prometheus text, version 0.0.4. Needs a bearer token
 * that may `account-metrics`, or the root token (authenticated as every route is; `401 authn` / `403
 * permission_denied` as S2 JSON otherwise). Two parts:
 *
 * 1. This isolate's counters and histograms (registry.ts): requests and errors by route group and code,
 *    appends, records and bytes, reads, append ack latency, open read sessions. Free to serve.
 * 2. Storage gauges gathered from the account's basins and their streams: stored bytes, unsealed tail bytes,
 *    object storage (segment) bytes, seal lag, live followers, per basin. Gathering wakes objects, so it is
 *    bounded: at most SCRAPE_BASINS_MAX basins (name order) and BASIN_FANOUT_STREAMS_MAX streams per basin,
 *    and an isolate gathers at most once per GATHER_TTL_MS, serving the last result in between (so a 15 s
 *    scrape interval costs a fan-out a minute). `edgestream_gather_truncated` is 1 when a cap left something
 *    out. `?gather=0` skips this part, `?gather=fresh` gathers now.
 *
 * Labels carry basin names and fixed values only: never tokens, stream names or other client input.
 */
import type { Context } from "hono";
import type { BasinStats } from "../../control/basin-usage";
import { BASIN_FANOUT_STREAMS_MAX } from "../../domain/usage";
import { accountStub, basinStub, type Env } from "../../env";
import { mapBounded } from "../../lib/map-bounded";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type Family } from "../../protocol/prometheus";
import { authorize } from "../auth/authorize";
import type { AppEnv } from "../context";
import { isolateMetrics } from "./registry";

/** Basins one gather reaches (the Worker makes one RPC to each, within its subrequest limit). */
export const SCRAPE_BASINS_MAX = 100;
/** How long an isolate serves gathered gauges before gathering again. */
export const GATHER_TTL_MS = 60_000;
const GATHER_CONCURRENCY = 8;

/**
 * The last gather's families (data, never a promise: a promise settled by another request's I/O must not be
 * awaited across requests in Workers). Concurrent scrapes in the first minute may each gather once.
 */
let gathered: { atMs: number; families: Family[] } | undefined;

export async function prometheusMetrics(c: Context<AppEnv>): Promise<Response> {
  authorize(c, "account-metrics");
  const mode = c.req.query("gather");
  const families = isolateMetrics.families();
  if (mode !== "0") {
    const nowMs = Date.now();
    if (mode === "fresh" || !gathered || nowMs - gathered.atMs >= GATHER_TTL_MS) gathered = { atMs: nowMs, families: await gather(c.env, nowMs) };
    families.push(...gathered.families);
  }
  return new Response(renderPrometheus(families), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } });
}

async function gather(env: Env, nowMs: number): Promise<Family[]> {
  const names = await accountStub(env).basinNames(SCRAPE_BASINS_MAX + 1);
  const basins = await mapBounded(names.slice(0, SCRAPE_BASINS_MAX), GATHER_CONCURRENCY, async (basin) => {
    try {
      return { basin, stats: await basinStub(env, basin).streamsStats(basin) };
    } catch (error) {
      console.error(`metrics: gathering basin ${basin} failed; left out`, error);
      return undefined;
    }
  });
  const answered = basins.filter((b): b is { basin: string; stats: BasinStats } => b !== undefined);
  const truncated = names.length > SCRAPE_BASINS_MAX || answered.some((b) => b.stats.truncated);
  const perBasin = (name: string, help: string, value: (stats: BasinStats) => number): Family =>
    ({ name, help, type: "gauge", samples: answered.map(({ basin, stats }) => ({ labels: { basin }, value: value(stats) })) });
  return [
    perBasin("edgestream_basin_streams", "Streams gathered, per basin.", (s) => s.streams),
    perBasin("edgestream_basin_storage_bytes", "Stored bytes (unsealed tail rows plus sealed segments), per basin.", (s) => s.storageBytes),
    perBasin("edgestream_basin_unsealed_bytes", "Bytes in tail rows waiting to be sealed to object storage, per basin.", (s) => s.tailBytes),
    perBasin("edgestream_basin_object_storage_bytes", "Bytes of sealed segment objects in R2, per basin.", (s) => s.segmentBytes),
    perBasin("edgestream_basin_seal_lag_seconds", "Age of the oldest unsealed tail row of any stream of the basin.", (s) => s.sealLagMsMax / 1000),
    perBasin("edgestream_basin_live_followers", "Live follower relays subscribed to the basin's streams.", (s) => s.followers),
    {
      name: "edgestream_gather_truncated", type: "gauge", samples: [{ labels: {}, value: truncated ? 1 : 0 }],
      help: `1 if the gather left basins or streams out (caps: ${SCRAPE_BASINS_MAX} basins, ${BASIN_FANOUT_STREAMS_MAX} streams per basin).`,
    },
    { name: "edgestream_gather_timestamp_seconds", help: "When the storage gauges were gathered (Unix seconds).", type: "gauge", samples: [{ labels: {}, value: Math.floor(nowMs / 1000) }] },
  ];
}
