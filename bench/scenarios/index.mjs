// The scenario registry. A scenario is { name, description, params(opts) → object, run(ctx, params) → result }
// where result = { valid, reasons: [string], rows: [Row], figures?: object } and a Row is
// { label, valid, reason?, records, seconds, recordsPerSec, mibPerSec, latencyKind: "ack"|"e2e",
//   latency: { n, min, p50, p90, p99, p999, max, mean } (ms), extra?: object }.
// ctx = { baseUrl, basin, client (S2Client), newStream(prefix), signal (AbortSignal), log(msg), opts }.
// Add a scenario by writing a module like these and listing it here.
import appendLatency from "./append-latency.mjs";
import appendThroughput from "./append-throughput.mjs";
import sseFanout from "./sse-fanout.mjs";
import writerWithIdleReaders from "./writer-with-idle-readers.mjs";

export const scenarios = [appendLatency, appendThroughput, sseFanout, writerWithIdleReaders];
