// Append drivers: an open-loop fixed-rate writer (latency from the scheduled send time, so a stalled server
// cannot hide queueing) and closed-loop lanes (throughput). Both are bounded in requests and in time.
import { performance } from "node:perf_hooks";
import { ackRange, sleep } from "./stats.mjs";

/**
 * How a writer appends: through a target (targets.mjs; its acks carry { key, count, … }) or, as before targets
 * existed, through an S2Client and basin.
 */
function appender({ target, client, basin, stream }) {
  if (target) return (bodies, opts) => target.append(stream, bodies, opts);
  return async (bodies, opts) => {
    const r = await client.append(basin, stream, bodies, opts);
    const ack = ackRange(r.ack, bodies.length);
    return { ack: { ...ack, key: ack.start }, sentAt: r.sentAt, doneAt: r.doneAt };
  };
}

/**
 * Sends `total` batches at `rate` batches/s. batchFor(i, now, scheduled) → { bodies, meta } is called at the moment
 * of sending.
 * At most `inFlight` requests are outstanding; a send waiting for a slot still counts from its scheduled time.
 * Stops after `maxErrors` errors. Resolves { acks, latencyMs (from schedule), serviceMs (from send), errors, sent, t0, tEnd }.
 */
export async function fixedRateWriter({ target, client, basin, stream, agent, rate, total, inFlight = 32, batchFor, signal, timeoutMs = 30_000, maxErrors = 1 }) {
  const append = appender({ target, client, basin, stream });
  const interval = 1000 / rate;
  const acks = [];
  const latencyMs = [];
  const serviceMs = [];
  const errors = [];
  const pending = new Set();
  let lastDone = 0;
  const t0 = performance.now() + 20;
  let sent = 0;
  for (let i = 0; i < total; i++) {
    if (signal?.aborted || errors.length >= maxErrors) break;
    const scheduled = t0 + i * interval;
    await sleep(scheduled - performance.now(), signal);
    while (pending.size >= inFlight) await Promise.race(pending);
    if (signal?.aborted || errors.length >= maxErrors) break;
    sent += 1;
    const { bodies, meta } = batchFor(i, performance.now(), scheduled);
    const p = append(bodies, { agent, timeoutMs }).then(
      ({ ack, sentAt, doneAt }) => {
        acks.push({ ...ack, i, meta });
        latencyMs.push(doneAt - scheduled);
        serviceMs.push(doneAt - sentAt);
        lastDone = Math.max(lastDone, doneAt);
      },
      (err) => { errors.push(`batch ${i}: ${err.message}`); },
    ).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  return { acks, latencyMs, serviceMs, errors, sent, t0, tEnd: lastDone || performance.now() };
}

/**
 * `lanes` closed loops, each sending a batch and waiting for its ack, until `durationMs` has passed (or
 * `maxBatches` in total were sent). batchFor(lane, n) → { bodies, jsonText?, meta }.
 * Resolves { acks, latencyMs, errors, records, t0, tEnd }.
 */
export async function closedLoopWriter({ target, client, basin, stream, agent, lanes, durationMs, maxBatches = 1e6, batchFor, signal, timeoutMs = 30_000 }) {
  const append = appender({ target, client, basin, stream });
  const acks = [];
  const latencyMs = [];
  const errors = [];
  let sent = 0;
  let records = 0;
  let lastDone = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  async function lane(l) {
    for (let n = 0; ; n++) {
      if (performance.now() >= deadline || sent >= maxBatches || signal?.aborted || errors.length > 0) return;
      sent += 1;
      const { bodies, jsonText, meta } = batchFor(l, n);
      try {
        const { ack, sentAt, doneAt } = await append(bodies, { agent, jsonText, timeoutMs });
        acks.push({ ...ack, lane: l, n, meta });
        latencyMs.push(doneAt - sentAt);
        records += bodies.length;
        lastDone = Math.max(lastDone, doneAt);
      } catch (err) {
        errors.push(`lane ${l} batch ${n}: ${err.message}`);
        return;
      }
    }
  }
  await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
  return { acks, latencyMs, errors, records, t0, tEnd: lastDone || performance.now() };
}
