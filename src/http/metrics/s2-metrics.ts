/**
 * S2's usage metrics API (S2-API §6.3): `GET /v1/metrics` (op account-metrics), `/v1/metrics/{basin}`
 * (basin-metrics) and `/v1/metrics/{basin}/{stream}` (stream-metrics). Each asks the object that counted:
 *
 *   active-basins, account-ops      the AccountObject (its registry; its own operations)
 *   basin-ops                       the basin's BasinObject (its own operations)
 *   storage, append-*, read-*       the basin's BasinObject, which fans out to its streams (bounded:
 *                                   control/basin-usage.ts)
 *   stream storage                  the stream's StreamObject
 *
 * Unknown basins and streams are not errors: they have no usage, so the sets answer without points (as the
 * cloud does: "the metrics API does NOT return 404"). Path, authorization, then query, as the data plane.
 */
import { Hono } from "hono";
import {
  ACCOUNT_METRIC_SETS, accountMetricSet, BASIN_METRIC_SETS, basinMetricSet, metricRange, STREAM_METRIC_SETS, streamMetricSet,
} from "../../domain/metric-sets";
import { accountStub, basinStub, streamStub } from "../../env";
import { parseMetricQuery, renderMetricSet } from "../../protocol/s2/json-metrics";
import { authorize } from "../auth/authorize";
import type { AppEnv } from "../context";
import { basinParam, json, streamParam } from "../s2/request";
import { unwrap } from "../rejection";

const params = (url: string) => new URL(url).searchParams;

export const metricsRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    authorize(c, "account-metrics");
    const query = unwrap(parseMetricQuery(params(c.req.url), ACCOUNT_METRIC_SETS));
    const range = unwrap(metricRange("account", query, Date.now()));
    const account = accountStub(c.env);
    const source = query.set === "active-basins"
      ? { basins: await account.activeBasins(range), buckets: [] }
      : { basins: [], buckets: (await account.opsUsage(range)).buckets };
    return json(renderMetricSet(accountMetricSet(query.set, range, source)));
  })
  .get("/:basin", async (c) => {
    const basin = unwrap(basinParam(c));
    authorize(c, "basin-metrics", { basin });
    const query = unwrap(parseMetricQuery(params(c.req.url), BASIN_METRIC_SETS));
    const range = unwrap(metricRange("basin", query, Date.now()));
    const stub = basinStub(c.env, basin);
    const source = query.set === "basin-ops"
      ? { buckets: (await stub.opsUsage(range)).buckets, storage: [] }
      : await stub.streamsUsage(basin, range);
    return json(renderMetricSet(basinMetricSet(query.set, range, source)));
  })
  .get("/:basin/:stream", async (c) => {
    const basin = unwrap(basinParam(c));
    const stream = unwrap(streamParam(c));
    authorize(c, "stream-metrics", { basin, stream });
    const query = unwrap(parseMetricQuery(params(c.req.url), STREAM_METRIC_SETS));
    const range = unwrap(metricRange("stream", query, Date.now()));
    const report = await streamStub(c.env, basin, stream).usage(range);
    return json(renderMetricSet(streamMetricSet(query.set, report.storage)));
  });
