// Metrics end to end inside workerd: appends and reads show up in the S2 usage metrics API (`/v1/metrics*`,
// S2-API §6.3) and in Prometheus `/metrics` (S2-API §1.3); usage costs no storage row per append or read.
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { UsageLedger } from "../../src/storage/usage-ledger";
import { rootAuthorization } from "../support/auth";
import { bearer, issue } from "./auth-helpers";
import {
  appendOk, call, createBasin, createStream, env, expectS2Error, expectStatus, ORIGIN, recordsPath, streamObject, uniqueBasin,
  uniqueStream,
} from "./helpers";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;

type Point = [number, number];
interface MetricJson {
  accumulation?: { name: string; unit: string; interval: string; values: Point[] };
  gauge?: { name: string; unit: string; values: Point[] };
  label?: { name: string; values: string[] };
}

const nowSecs = () => Math.floor(Date.now() / 1000);
const lastHour = () => `start=${nowSecs() - 3600}&end=${nowSecs()}`;

async function metricSet(path: string, query: string): Promise<MetricJson[]> {
  const body = (await expectStatus(await call(`/metrics${path}?${query}`), 200)) as { values: MetricJson[] };
  return body.values;
}

/** The sum of an accumulation's points, by metric name. */
async function totals(path: string, set: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await metricSet(path, `set=${set}&${lastHour()}`)) {
    if (m.accumulation) out[m.accumulation.name] = m.accumulation.values.reduce((sum, [, v]) => sum + v, 0);
  }
  return out;
}

async function newBasin(prefix: string): Promise<string> {
  const basin = uniqueBasin(prefix);
  await createBasin(basin);
  return basin;
}

function scrape(query = "", headers: Record<string, string> = rootAuthorization): Promise<Response> {
  return worker.fetch(`${ORIGIN}/metrics${query}`, { headers });
}

/** The value of the sample with exactly these labels (in this order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const rendered = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  const prefix = rendered === "" ? `${name} ` : `${name}{${rendered}} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

const metered = (...bodies: string[]) => bodies.reduce((sum, body) => sum + 8 + new TextEncoder().encode(body).length, 0);

describe("S2 usage metrics API", () => {
  it("counts appends (ops, bytes, by storage class) and reads (ops by kind, bytes) of a basin's streams", async () => {
    const basin = await newBasin("metrics-rw");
    const standard = uniqueStream();
    const express = uniqueStream();
    await createStream(basin, standard, { storage_class: "standard" });
    await createStream(basin, express, { storage_class: "express" });
    await appendOk(basin, standard, ["hello", "world"]);
    await appendOk(basin, standard, ["x"]);
    await appendOk(basin, express, ["express"]);
    const read = (await expectStatus(await call(`${recordsPath(standard)}?seq_num=0`, { basin }), 200)) as { records: unknown[] };
    expect(read.records).toHaveLength(3);

    expect(await totals(`/${basin}`, "append-ops")).toEqual({ append_ops_standard: 2, append_ops_express: 1 });
    expect(await totals(`/${basin}`, "append-throughput"))
      .toEqual({ append_bytes_standard: metered("hello", "world", "x"), append_bytes_express: metered("express") });
    expect(await totals(`/${basin}`, "read-ops")).toEqual({ read_ops_streaming: 0, read_ops_unary: 1 });
    expect(await totals(`/${basin}`, "read-throughput")).toEqual({ read_bytes: metered("hello", "world", "x") });
  });

  it("answers storage as gauges: the stream by the minute, the basin (summed) by the hour", async () => {
    const basin = await newBasin("metrics-storage");
    const stream = uniqueStream();
    await createStream(basin, stream);
    for (let i = 0; i < 6; i++) await appendOk(basin, stream, [`record-${i}`.repeat(20)]);

    const [streamGauge] = await metricSet(`/${basin}/${stream}`, `set=storage&${lastHour()}`);
    expect(streamGauge!.gauge).toMatchObject({ name: "storage", unit: "bytes" });
    const [minute, bytes] = streamGauge!.gauge!.values.at(-1)!;
    expect(minute % 60).toBe(0);
    expect(bytes).toBeGreaterThan(6 * 20 * 8);

    const [basinGauge] = await metricSet(`/${basin}`, `set=storage&${lastHour()}`);
    const [hour, basinBytes] = basinGauge!.gauge!.values.at(-1)!;
    expect(hour % 3600).toBe(0);
    expect(basinBytes).toBe(bytes);
  });

  it("counts a live delivery to a waiting reader as read bytes", async () => {
    const basin = await newBasin("metrics-live");
    const stream = uniqueStream();
    await createStream(basin, stream);
    await appendOk(basin, stream, ["first"]);
    const waiting = call(`${recordsPath(stream)}?seq_num=1&wait=10`, { basin });
    await waitFor(async () => (await runInDurableObject(streamObject(basin, stream), (_i, state) => state.getWebSockets().length)) === 1);
    await appendOk(basin, stream, ["live!"]);
    const body = (await expectStatus(await waiting, 200)) as { records: { body: string }[] };
    expect(body.records.map((r) => r.body)).toEqual(["live!"]);
    expect(await totals(`/${basin}`, "read-ops")).toEqual({ read_ops_streaming: 0, read_ops_unary: 1 });
    expect(await totals(`/${basin}`, "read-throughput")).toEqual({ read_bytes: metered("live!") });
  });

  it("counts Durable Streams appends and reads of the same streams", async () => {
    const name = `metrics/${uniqueStream()}`;
    const ds = (method: string, init: RequestInit = {}) =>
      worker.fetch(`${ORIGIN}/v1/stream/${name}`, { method, ...init, headers: { ...rootAuthorization, "content-type": "application/json", ...init.headers } });
    expect((await ds("PUT")).status).toBe(201);
    const before = await (await scrape("?gather=0")).text();
    expect((await ds("POST", { body: '[{"a":1},{"b":2}]' })).status).toBe(204);
    expect((await ds("GET")).status).toBe(200);
    const after = await (await scrape("?gather=0")).text();
    const delta = (name: string, labels: Record<string, string>) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(delta("edgestream_appends_total", { protocol: "ds" })).toBe(1);
    expect(delta("edgestream_append_records_total", { protocol: "ds" })).toBe(2);
    expect(delta("edgestream_reads_total", { protocol: "ds", kind: "unary" })).toBe(1);
    const basin = env.DS_BASIN!;
    const appended = await totals(`/${basin}`, "append-throughput");
    expect(appended.append_bytes_express).toBe(metered('{"a":1}', '{"b":2}'));
    expect((await totals(`/${basin}`, "read-ops")).read_ops_unary).toBe(1);
  });

  it("counts a basin's stream operations (basin-ops) and the account's (account-ops, active-basins)", async () => {
    const basin = await newBasin("metrics-ops");
    await createStream(basin, uniqueStream());
    await createStream(basin, uniqueStream());
    await expectStatus(await call("/streams", { basin }), 200);
    const basinOps = await totals(`/${basin}`, "basin-ops");
    expect(basinOps).toMatchObject({ "create-stream": 2, "list-streams": 1, "delete-stream": 0, "reconfigure-stream": 0 });

    const accountOps = await totals("", "account-ops");
    expect(accountOps["create-basin"]).toBeGreaterThanOrEqual(1);
    const [active] = await metricSet("", `set=active-basins&${lastHour()}`);
    expect(active!.label!.name).toBe("active_basins");
    expect(active!.label!.values).toContain(basin);
    const [past] = await metricSet("", "set=active-basins&start=0&end=3600");
    expect(past!.label!.values).toEqual([]);
  });

  it("answers an unknown basin or stream with every metric of the set and no points", async () => {
    const ghost = uniqueBasin("metrics-ghost");
    const values = await metricSet(`/${ghost}`, `set=append-ops&${lastHour()}`);
    expect(values.map((m) => m.accumulation)).toEqual([
      { name: "append_ops_standard", unit: "operations", interval: "hour", values: [] },
      { name: "append_ops_express", unit: "operations", interval: "hour", values: [] },
    ]);
    expect(await metricSet(`/${ghost}/nothing`, `set=storage&${lastHour()}`)).toEqual([{ gauge: { name: "storage", unit: "bytes", values: [] } }]);
  });

  it("refuses bad queries as S2 does", async () => {
    const basin = await newBasin("metrics-bad");
    await expectS2Error(await call(`/metrics/${basin}?${lastHour()}`), 400, "bad_query");
    await expectS2Error(await call(`/metrics/${basin}?set=everything&${lastHour()}`), 422, "invalid");
    const missing = await expectS2Error(await call(`/metrics/${basin}?set=storage&end=${nowSecs()}`), 422, "invalid");
    expect(missing.message).toBe("start and end params required");
    await expectS2Error(await call(`/metrics/${basin}?set=read-ops&start=${nowSecs()}&end=${nowSecs() - 60}`), 422, "invalid");
    await expectS2Error(await call(`/metrics/${basin}?set=read-ops&start=${nowSecs() - 40 * 86400}&end=${nowSecs()}`), 422, "invalid");
    await expectS2Error(await call(`/metrics/${basin}?set=read-ops&start=${nowSecs()}&end=${nowSecs() + 3600}`), 422, "invalid");
    await expectS2Error(await call(`/metrics/${basin}?set=storage&${lastHour()}&interval=minute`), 422, "invalid");
    await expectS2Error(await call(`/metrics/${basin}/s?set=storage&${lastHour()}&interval=hour`), 422, "invalid");
    await expectS2Error(await call(`/metrics?set=account-ops&start=soon&end=${nowSecs()}`), 400, "bad_query");
    await expectS2Error(await call(`/metrics/NOT_A_BASIN?set=storage&${lastHour()}`), 400, "bad_path");
    expect((await call("/metrics", { method: "POST" })).status).toBe(405);
  });

  it("needs the metrics operation of each level, within the token's basins", async () => {
    const mine = await newBasin("metrics-mine");
    const theirs = await newBasin("metrics-theirs");
    const token = await issue({ basins: { exact: mine }, ops: ["basin-metrics"] });
    const as = (path: string) => call(`/metrics${path}?set=read-ops&${lastHour()}`, { headers: bearer(token) });
    await expectStatus(await as(`/${mine}`), 200);
    await expectS2Error(await as(`/${theirs}`), 403, "permission_denied");
    await expectS2Error(await call(`/metrics?set=account-ops&${lastHour()}`, { headers: bearer(token) }), 403, "permission_denied");
    await expectS2Error(await call(`/metrics/${mine}/s?set=storage&${lastHour()}`, { headers: bearer(token) }), 403, "permission_denied");
  });
});

describe("usage storage", () => {
  it("stores a minute once, when it is over, with a storage sample; counting alone writes nothing", async () => {
    const object = streamObject(uniqueBasin("metrics-ledger"), uniqueStream());
    await runInDurableObject(object, (_instance, state) => {
      const sql = state.storage.sql;
      const rows = () => sql.exec<{ n: number }>("SELECT count(*) AS n FROM usage_minutes").one().n;
      const armed: number[] = [];
      const ledger = new UsageLedger(sql, { armBy: (atMs) => armed.push(atMs), sampleStorage: () => 4096 });
      const t0 = (Math.floor(Date.now() / 3_600_000) - 2) * 3_600_000; // an hour boundary, two hours ago
      for (let i = 0; i < 100; i++) ledger.count(t0 + i * 100, { "append_ops.express": 1, read_bytes: 10 });
      expect(rows()).toBe(0);
      expect(armed).toEqual([t0 + 60_000]);
      ledger.count(t0 + 60_000, { "append_ops.express": 1 });
      expect(rows()).toBe(1);
      ledger.alarm(t0 + 120_000);
      expect(rows()).toBe(2);
      const report = ledger.report({ startSecs: t0 / 1000, endSecs: t0 / 1000 + 3599, interval: "hour" }, t0 + 120_000, null);
      expect(report.buckets).toEqual([{ atSecs: t0 / 1000, counters: { "append_ops.express": 101, read_bytes: 1000 } }]);
      expect(report.storage.points).toEqual([[t0 / 1000, 4096]]);
      const byMinute = ledger.report({ startSecs: t0 / 1000 + 60, endSecs: t0 / 1000 + 3599, interval: "minute" }, t0 + 120_000, null);
      expect(byMinute.buckets).toEqual([{ atSecs: t0 / 1000 + 60, counters: { "append_ops.express": 1 } }]);
      expect(byMinute.storage.before).toBe(4096);
    });
  });

  it("writes at most one usage row for a burst of appends and reads (none per operation)", async () => {
    const basin = await newBasin("metrics-rows");
    const stream = uniqueStream();
    await createStream(basin, stream);
    for (let i = 0; i < 12; i++) {
      await appendOk(basin, stream, [`r${i}`]);
      await expectStatus(await call(`${recordsPath(stream)}?seq_num=0&count=1`, { basin }), 200);
    }
    const usageRows = await runInDurableObject(streamObject(basin, stream), (_i, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM usage_minutes").one().n);
    // A minute boundary may fall inside the burst: then exactly one finished minute was stored.
    expect(usageRows).toBeLessThanOrEqual(1);
    expect((await totals(`/${basin}`, "append-ops")).append_ops_express).toBe(12);
    expect((await totals(`/${basin}`, "read-ops")).read_ops_unary).toBe(12);
  });
});

describe("Prometheus /metrics", () => {
  it("serves text 0.0.4 with this isolate's appends, records, bytes, reads and latency", async () => {
    const basin = await newBasin("metrics-prom");
    const stream = uniqueStream();
    await createStream(basin, stream);
    const before = await (await scrape("?gather=0")).text();
    await appendOk(basin, stream, ["abc", "defg"]);
    await expectStatus(await call(`${recordsPath(stream)}?seq_num=0`, { basin }), 200);
    const res = await scrape("?gather=0");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const after = await res.text();
    const delta = (name: string, labels?: Record<string, string>) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(after).toContain("# TYPE edgestream_appends_total counter");
    expect(delta("edgestream_appends_total", { protocol: "s2" })).toBe(1);
    expect(delta("edgestream_append_records_total", { protocol: "s2" })).toBe(2);
    expect(delta("edgestream_append_bytes_total", { protocol: "s2" })).toBe(metered("abc", "defg"));
    expect(delta("edgestream_append_ack_latency_seconds_count", { protocol: "s2" })).toBe(1);
    expect(delta("edgestream_reads_total", { protocol: "s2", kind: "unary" })).toBe(1);
    expect(delta("edgestream_read_records_total")).toBe(2);
    expect(delta("edgestream_http_requests_total", { group: "s2-records", status: "200" })).toBe(2);
    expect(sample(after, "edgestream_read_sessions_active")).toBeGreaterThanOrEqual(0);
    expect(after).not.toContain(rootAuthorization.authorization.slice("Bearer ".length));
  });

  it("counts error responses by route group and S2 code", async () => {
    const basin = await newBasin("metrics-errors");
    const labels = { group: "s2-records", code: "stream_not_found" };
    const before = sample(await (await scrape("?gather=0")).text(), "edgestream_http_errors_total", labels) ?? 0;
    await expectS2Error(await call(`${recordsPath("ghost")}`, { method: "POST", basin, json: { records: [{ body: "x" }] } }), 404, "stream_not_found");
    const after = sample(await (await scrape("?gather=0")).text(), "edgestream_http_errors_total", labels);
    expect(after).toBe(before + 1);
  });

  it("gathers storage, object storage and seal lag per basin", async () => {
    const basin = await newBasin("metrics-gather");
    const stream = uniqueStream();
    await createStream(basin, stream);
    for (let i = 0; i < 3; i++) await appendOk(basin, stream, ["0123456789".repeat(10)]);
    const text = await (await scrape("?gather=fresh")).text();
    expect(sample(text, "edgestream_basin_streams", { basin })).toBe(1);
    const stored = sample(text, "edgestream_basin_storage_bytes", { basin })!;
    expect(stored).toBeGreaterThan(300);
    expect(stored).toBe(sample(text, "edgestream_basin_unsealed_bytes", { basin })! + sample(text, "edgestream_basin_object_storage_bytes", { basin })!);
    expect(sample(text, "edgestream_basin_seal_lag_seconds", { basin })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "edgestream_gather_truncated")).toBe(0);
  });

  it("needs a token that may account-metrics (or the root token)", async () => {
    const anonymous = await scrape("", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const reader = await issue({ ops: ["read"] });
    await expectS2Error(await scrape("", bearer(reader)), 403, "permission_denied");
    const scraper = await issue({ ops: ["account-metrics"] });
    expect((await scrape("?gather=0", bearer(scraper))).status).toBe(200);
    expect((await worker.fetch(`${ORIGIN}/metrics`, { method: "POST", headers: rootAuthorization })).status).toBe(405);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
