// Metrics on the real server: the SDK's usage metrics calls (spec §6.3) see appends and reads, and a
// Prometheus scrape of `/metrics` (spec §1.3) sees them too.
import { AppendInput, AppendRecord, type S2Basin } from "@s2-dev/streamstore";
import { beforeAll, describe, expect, it } from "vitest";
import { rootAuthorization } from "../support/auth";
import { baseUrl, client, createBasin, createStream } from "../support/s2";

const s2 = client();
let basin: S2Basin;

beforeAll(async () => {
  basin = await createBasin(s2, "metrics");
});

const lastHour = () => ({ start: new Date(Date.now() - 3_600_000), end: new Date() });

/** The value of the sample with exactly these labels (in this order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const rendered = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  const prefix = rendered === "" ? `${name} ` : `${name}{${rendered}} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

describe("metrics", () => {
  it("the SDK's basin and stream metrics count what was appended and read", async () => {
    const stream = await createStream(basin);
    await stream.append(AppendInput.create([AppendRecord.string({ body: "one" }), AppendRecord.string({ body: "two" })]));
    await stream.append(AppendInput.create([AppendRecord.string({ body: "three" })]));
    const read = await stream.read({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 10 } } });
    expect(read.records).toHaveLength(3);

    const appendOps = await s2.metrics.basin({ basin: basin.name, set: "append-ops", ...lastHour() });
    const express = appendOps.values.find((m) => "accumulation" in m && m.accumulation.name === "append_ops_express");
    expect(express && "accumulation" in express ? express.accumulation.values.reduce((sum, [, v]) => sum + v, 0) : undefined).toBe(2);

    const readBytes = await s2.metrics.basin({ basin: basin.name, set: "read-throughput", ...lastHour(), interval: "minute" });
    const [readMetric] = readBytes.values;
    expect(readMetric && "accumulation" in readMetric ? readMetric.accumulation.values.reduce((sum, [, v]) => sum + v, 0) : undefined)
      .toBe(8 * 3 + "onetwothree".length);

    const storage = await s2.metrics.stream({ basin: basin.name, stream: stream.name, set: "storage", ...lastHour() });
    const [gauge] = storage.values;
    expect(gauge && "gauge" in gauge ? gauge.gauge.values.at(-1)?.[1] : undefined).toBeGreaterThan(0);
  });

  it("GET /metrics is Prometheus text with the server's appends and the basin's storage", async () => {
    const stream = await createStream(basin);
    const scrape = (query = "") => fetch(`${baseUrl()}/metrics${query}`, { headers: rootAuthorization });
    const before = sample(await (await scrape("?gather=0")).text(), "edgestream_appends_total", { protocol: "s2" }) ?? 0;
    await stream.append(AppendInput.create([AppendRecord.string({ body: "scraped" })]));

    const res = await scrape("?gather=fresh");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toMatch(/^# HELP /);
    expect(sample(text, "edgestream_appends_total", { protocol: "s2" })).toBeGreaterThanOrEqual(before + 1);
    expect(text).toContain("# TYPE edgestream_append_ack_latency_seconds histogram");
    expect(sample(text, "edgestream_basin_storage_bytes", { basin: basin.name })).toBeGreaterThan(0);
    expect(sample(text, "edgestream_basin_seal_lag_seconds", { basin: basin.name })).toBeGreaterThanOrEqual(0);

    const anonymous = await fetch(`${baseUrl()}/metrics`);
    expect(anonymous.status).toBe(401);
  });
});
