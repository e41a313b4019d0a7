// 1 / 10 / 100 streams appended to at once, every target: one closed-loop writer per stream (batch of 1 KiB
// records, one request in flight each), for a fixed time. Aggregate records/s and MiB/s; ack latency over all
// writers. Every stream is verified (acks, tail, its first and last records byte for byte).
import { unaryAgent } from "../lib/client.mjs";
import { logRow, onTarget, pool, storageCost, targetsFor } from "../lib/cases.mjs";
import { MiB, round, summarize, paddedBody } from "../lib/stats.mjs";
import { closedLoopWriter } from "../lib/writers.mjs";

async function oneCase(ctx, target, p, n) {
  const streams = await pool(Array.from({ length: n }, (_, i) => i), 10, () => target.newStream(`par${n}`));
  const agent = unaryAgent(n + 4);
  const bodyFor = (s, n2, j) => paddedBody(`p:${s}:${n2}:${j}:`, p.recordBytes);
  try {
    const results = await Promise.all(streams.map((stream, s) => closedLoopWriter({
      target, stream, agent, lanes: 1, durationMs: p.seconds * 1000, signal: ctx.signal,
      batchFor: (_lane, k) => ({ bodies: Array.from({ length: p.batch }, (_, j) => bodyFor(s, k, j)) }),
    })));
    const reasons = results.flatMap((w) => w.errors);
    if (ctx.signal.aborted) reasons.push("aborted");
    const records = results.reduce((sum, w) => sum + w.records, 0);
    if (reasons.length === 0 && results.some((w) => w.records === 0)) reasons.push("a stream got no acknowledged append");
    if (reasons.length === 0) {
      const problems = await pool(streams, 10, (stream, s) => target.verifyAppends({
        stream, acks: results[s].acks, recordBytes: p.recordBytes, readBack: p.readBack,
        expectBody: (ack, j) => bodyFor(s, ack.n, j),
      }));
      problems.forEach((list, s) => { if (list.length > 0) reasons.push(`stream ${s}: ${list[0]}`); });
    }
    const t0 = Math.min(...results.map((w) => w.t0));
    const tEnd = Math.max(...results.map((w) => w.tEnd));
    const secs = (tEnd - t0) / 1000;
    const perStream = results.map((w) => w.records / ((w.tEnd - w.t0) / 1000));
    // Storage cost over all streams of the case (ours only).
    let storage;
    if (target.ours) {
      const costs = await pool(streams, 10, (stream, s) => storageCost(target, stream, results[s].records * p.recordBytes));
      const rows = costs.reduce((sum, c) => sum + (c?.recordRows ?? 0), 0);
      const puts = costs.reduce((sum, c) => sum + (c?.r2Puts ?? 0), 0);
      const mib = (records * p.recordBytes) / MiB;
      storage = { recordRows: rows, sqliteRowsPerMiB: round(rows / mib, 2), r2Puts: puts, r2PutsPerMiB: round(puts / mib, 3) };
    }
    return {
      label: `${n} streams x batch ${p.batch}`,
      valid: reasons.length === 0,
      reason: reasons[0],
      records,
      seconds: round(secs),
      recordsPerSec: round(records / secs, 1),
      mibPerSec: round((records * p.recordBytes) / MiB / secs, 3),
      latencyKind: "ack",
      latency: summarize(results.flatMap((w) => w.latencyMs)),
      storage,
      extra: { streams: n, batch: p.batch, perStreamRecordsPerSec: summarize(perStream) },
    };
  } finally {
    agent.destroy();
  }
}

export default {
  name: "parallel-streams",
  description: "1/10/100 streams appended to in parallel (one closed-loop writer each, batch 100), every target",
  params: ({ quick }) => ({
    streams: quick ? [1, 10] : [1, 10, 100],
    batch: 100,
    seconds: quick ? 0.75 : 5,
    recordBytes: 1024,
    readBack: 200,
  }),

  async run(ctx, p) {
    const rows = [];
    for (const target of targetsFor(ctx, p)) {
      for (const n of p.streams) {
        if (ctx.signal.aborted) break;
        const row = await onTarget(ctx, target, `${n} streams x batch ${p.batch}`, () => oneCase(ctx, target, p, n));
        logRow(ctx, row);
        rows.push(row);
      }
    }
    const reasons = rows.filter((r) => !r.valid).map((r) => `[${r.target}] ${r.label}: ${r.reason}`);
    return { valid: reasons.length === 0, reasons, rows };
  },
};
