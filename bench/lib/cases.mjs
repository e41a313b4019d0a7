// Building blocks of multi-target scenarios: which targets a scenario runs on, a case measured on one target
// (its server's CPU and peak RSS while the case ran), the storage cost of what a case appended (ours only),
// and the closed-loop throughput case shared by several scenarios.
import { unaryAgent } from "./client.mjs";
import { MiB, round, summarize, paddedBody } from "./stats.mjs";
import { meter } from "./targets.mjs";
import { closedLoopWriter } from "./writers.mjs";

/** The targets a scenario runs on: its `targets` parameter ∩ those the run selected, in the run's order. */
export function targetsFor(ctx, p) {
  const wanted = p.targets ?? ctx.targets.map((t) => t.name);
  return ctx.targets.filter((t) => wanted.includes(t.name));
}

/**
 * Runs fn() → row on `target`, recording its server's CPU seconds and peak RSS meanwhile (row.server) and the
 * target's name (row.target). An exception becomes an invalid row with that reason.
 */
export async function onTarget(ctx, target, label, fn) {
  const m = meter(target);
  let row;
  try {
    row = await fn();
  } catch (err) {
    row = { label, valid: false, reason: `error: ${err.message}` };
  }
  const measured = m.stop();
  row.server ??= measured; // a case may have metered just its measured part (catch-up: the reads, not the fill)
  if (!target.alive()) {
    row.valid = false;
    row.reason = row.reason ?? `the ${target.name} server exited`;
  }
  return { target: target.name, ...row };
}

/**
 * Storage cost of `records` appended records (`bytes` of bodies) on one of our streams, read from the state
 * dir: record rows stored (tail rows + rows folded into sealed segments) and R2 puts (sealed segments) per MiB.
 * Sealing runs after the appends (the object's alarm), so right after a case it may not have happened yet.
 */
export async function storageCost(target, stream, bytes) {
  if (!target.ours) return undefined;
  let s;
  try {
    s = await target.storage(stream);
  } catch (err) {
    return { error: err.message };
  }
  if (!s) return undefined;
  const mib = bytes / MiB;
  return {
    recordRows: s.recordRows,
    sqliteRowsPerMiB: mib > 0 ? round(s.recordRows / mib, 2) : undefined,
    r2Puts: s.segments,
    r2PutsPerMiB: mib > 0 ? round(s.segments / mib, 3) : undefined,
    tailRows: s.tailRows,
    tailBytes: s.tailBytes,
    sealedBytes: s.sealedBytes,
  };
}

/**
 * `lanes` closed loops appending batches of `batch` fixed-size records to a fresh stream on `target` for
 * `seconds`; verified (acks, tail, first and last `readBack` records byte for byte). A row.
 */
export async function throughputCase(ctx, target, { batch, lanes, seconds, recordBytes = 1024, label, streamPrefix = "tput", readBack = 2000 }) {
  const stream = await target.newStream(streamPrefix);
  const agent = unaryAgent(lanes);
  const bodyFor = (lane, n, j) => paddedBody(`t:${lane}:${n}:${j}:`, recordBytes);
  try {
    const w = await closedLoopWriter({
      target, stream, agent, lanes,
      durationMs: seconds * 1000, signal: ctx.signal,
      batchFor: (lane, n) => ({ bodies: Array.from({ length: batch }, (_, j) => bodyFor(lane, n, j)) }),
    });
    const reasons = [...w.errors];
    if (ctx.signal.aborted) reasons.push("aborted");
    if (reasons.length === 0 && w.records === 0) reasons.push("no append was acknowledged");
    if (reasons.length === 0) {
      reasons.push(...await target.verifyAppends({
        stream, acks: w.acks, recordBytes, readBack,
        expectBody: (ack, j) => bodyFor(ack.lane, ack.n, j),
      }));
    }
    const secs = (w.tEnd - w.t0) / 1000;
    return {
      label: label ?? `batch ${batch} x ${lanes} in flight`,
      valid: reasons.length === 0,
      reason: reasons[0],
      stream,
      records: w.records,
      batches: w.acks.length,
      seconds: round(secs),
      recordsPerSec: round(w.records / secs, 1),
      mibPerSec: round((w.records * recordBytes) / MiB / secs, 3),
      latencyKind: "ack",
      latency: summarize(w.latencyMs),
      storage: await storageCost(target, stream, w.records * recordBytes),
      extra: { batch, inFlight: lanes },
    };
  } finally {
    agent.destroy();
  }
}

/** Runs `items` through fn with at most `limit` at a time; resolves their results in order. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Logs a row the way every scenario does. */
export function logRow(ctx, row) {
  const what = row.valid
    ? `${row.recordsPerSec} rec/s, ${row.mibPerSec} MiB/s${row.latency ? `, ${row.latencyKind} p50 ${row.latency.p50} p99 ${row.latency.p99} ms` : ""}`
    : `INVALID ${row.reason}`;
  ctx.log(`  [${row.target}] ${row.label}: ${what}`);
}
