// The scenario registry. A scenario is { name, description, params(opts) → object, run(ctx, params) → result,
// optional? } where result = { valid, reasons: [string], rows: [Row], figures?: object } and a Row is
// { target?, label, valid, reason?, records, seconds, recordsPerSec, mibPerSec, latencyKind: "ack"|"e2e"|"request",
//   latency: { n, min, p50, p90, p99, p999, max, mean } (ms), server?: { cpuSeconds, cpuUtilization, peakRssBytes },
//   storage?: { sqliteRowsPerMiB, r2PutsPerMiB, … }, extra?: object }.
// ctx = { baseUrl, token, basin, client (S2Client), newStream(prefix), signal (AbortSignal), log(msg), opts,
//   targets (lib/targets.mjs: the selected ones), target(name), inspector (lib/persist.mjs), quiesce(target) }.
// Multi-target scenarios run each case on every target in ctx.targets (lib/cases.mjs); rows with the same
// label on several targets are compared side by side. `optional: true` scenarios run only when named.
// Add a scenario by writing a module like these and listing it here.
import appendLatency from "./append-latency.mjs";
import appendThroughput from "./append-throughput.mjs";
import boundedStorage from "./bounded-storage.mjs";
import catchUp from "./catch-up.mjs";
import e2eLatency from "./e2e-latency.mjs";
import parallelStreams from "./parallel-streams.mjs";
import sseFanout from "./sse-fanout.mjs";
import writerWithIdleReaders from "./writer-with-idle-readers.mjs";

export const scenarios = [appendLatency, appendThroughput, e2eLatency, catchUp, parallelStreams, writerWithIdleReaders, sseFanout, boundedStorage];
