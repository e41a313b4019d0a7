/**
 * This isolate's own counters, gauges and histograms, for `GET /metrics` (prometheus.ts): the requests,
 * errors, appends and reads the Worker handled since the isolate started, and the read sessions it holds
 * open now. Memory only: locally one isolate serves everything; on Cloudflare every isolate counts its own
 * share, and a scrape sees the isolate that answered it (`edgestream_isolate_start_time_seconds` tells them
 * apart). Durable, account-wide usage is the S2 metrics API (`/v1/metrics`, s2-metrics.ts).
 *
 * Label values come from fixed sets (route groups, error codes, protocols, statuses), never from names,
 * tokens or anything else a client sends, so cardinality stays bounded and no secret can leak into a scrape.
 *
 * Latencies use Date.now(), which in Workers advances only across I/O; the intervals measured here all span
 * I/O (an RPC, a response), which is what they are meant to measure.
 */
import type { HistogramSample, Family, Labels, Sample } from "../../protocol/prometheus";

/** Seconds: from 1 ms (a warm append in one colo) to 10 s (a stalled object). */
const LATENCY_BOUNDS_SECS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Records per append batch, up to S2's 1000. */
const BATCH_RECORDS_BOUNDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];
/** Metered bytes per append batch, up to S2's 1 MiB. */
const BATCH_BYTES_BOUNDS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels));

class Counter {
  readonly #values = new Map<string, Sample>();

  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge" = "counter") {}

  add(labels: Labels, by = 1): void {
    const key = keyOf(labels);
    const sample = this.#values.get(key);
    if (sample) sample.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  family(): Family {
    return { name: this.name, help: this.help, type: this.type, samples: [...this.#values.values()] };
  }
}

class Histogram {
  readonly #values = new Map<string, { labels: Labels; counts: number[]; sum: number }>();

  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[]) {}

  observe(labels: Labels, value: number): void {
    const key = keyOf(labels);
    let series = this.#values.get(key);
    if (!series) this.#values.set(key, (series = { labels, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0 }));
    const index = this.bounds.findIndex((bound) => value <= bound);
    series.counts[index === -1 ? this.bounds.length : index]! += 1;
    series.sum += value;
  }

  family(): Family {
    const samples: HistogramSample[] = [...this.#values.values()].map((s) => ({ ...s, bounds: this.bounds }));
    return { name: this.name, help: this.help, type: "histogram", samples };
  }
}

export type Protocol = "s2" | "ds";
export type ReadKind = "unary" | "streaming";

const requests = new Counter("edgestream_http_requests_total", "HTTP requests answered, by route group and status.");
const errors = new Counter("edgestream_http_errors_total", "Error responses, by route group and error code (S2 code, or http_<status> where none applies).");
const requestDuration = new Histogram("edgestream_http_request_duration_seconds", "Time to the response's headers, by route group.", LATENCY_BOUNDS_SECS);
const appends = new Counter("edgestream_appends_total", "Appends acknowledged (one per batch), by protocol.");
const appendRecords = new Counter("edgestream_append_records_total", "Records appended, by protocol.");
const appendBytes = new Counter("edgestream_append_bytes_total", "Metered bytes appended (S2-API §8.3), by protocol.");
const appendAckLatency = new Histogram("edgestream_append_ack_latency_seconds", "From sending an append to its stream's object until its durable ack.", LATENCY_BOUNDS_SECS);
const appendBatchRecords = new Histogram("edgestream_append_batch_records", "Records per acknowledged append batch.", BATCH_RECORDS_BOUNDS);
const appendBatchBytes = new Histogram("edgestream_append_batch_bytes", "Metered bytes per acknowledged append batch.", BATCH_BYTES_BOUNDS);
const reads = new Counter("edgestream_reads_total", "Read requests and sessions started, by protocol and kind (unary, streaming).");
const readRecords = new Counter("edgestream_read_records_total", "Records delivered to readers.");
const readBytes = new Counter("edgestream_read_bytes_total", "Metered bytes delivered to readers.");
const readSessions = new Counter("edgestream_read_sessions_active", "Read sessions open in this isolate (live readers: following the tail or catching up to it).", "gauge");
const isolateStart = new Counter("edgestream_isolate_start_time_seconds", "When this isolate started counting (Unix seconds).", "gauge");
isolateStart.add({}, Math.floor(Date.now() / 1000));

/** Error codes of S2 error responses, by response object (weak: a response is forgotten with its request). */
const taggedCodes = new WeakMap<Response, string>();

/** Marks an error response with its code, for the request counters (observe.ts). */
export function tagErrorCode(response: Response, code: string): Response {
  taggedCodes.set(response, code);
  return response;
}

export const taggedErrorCode = (response: Response): string | undefined => taggedCodes.get(response);

export const isolateMetrics = {
  request(group: string, status: number, durationMs: number, errorCode: string | undefined): void {
    requests.add({ group, status: String(status) });
    requestDuration.observe({ group }, durationMs / 1000);
    if (errorCode !== undefined) errors.add({ group, code: errorCode });
  },

  append(protocol: Protocol, records: number, bytes: number, latencyMs: number): void {
    appends.add({ protocol });
    appendRecords.add({ protocol }, records);
    appendBytes.add({ protocol }, bytes);
    appendAckLatency.observe({ protocol }, latencyMs / 1000);
    appendBatchRecords.observe({ protocol }, records);
    appendBatchBytes.observe({ protocol }, bytes);
  },

  readStarted(protocol: Protocol, kind: ReadKind): void {
    reads.add({ protocol, kind });
  },

  delivered(records: number, bytes: number): void {
    if (records === 0) return;
    readRecords.add({}, records);
    readBytes.add({}, bytes);
  },

  sessionOpened(): void {
    readSessions.add({}, 1);
  },

  sessionClosed(): void {
    readSessions.add({}, -1);
  },

  families(): Family[] {
    readSessions.add({}, 0);
    return [requests, errors, requestDuration, appends, appendRecords, appendBytes, appendAckLatency, appendBatchRecords,
      appendBatchBytes, reads, readRecords, readBytes, readSessions, isolateStart].map((metric) => metric.family());
  },
};
