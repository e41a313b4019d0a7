// Closed-loop appends of 1 KiB records: batch sizes × requests in flight, each case on a fresh stream.
import { MiB, round, summarize, paddedBody } from "../lib/stats.mjs";
import { unaryAgent } from "../lib/client.mjs";
import { closedLoopWriter } from "../lib/writers.mjs";
import { verifyAppends } from "../lib/verify.mjs";

const RECORD_BYTES = 1024;

/** Shared with writer-with-idle-readers: one closed-loop run on a fresh stream, verified. */
export async function throughputCase(ctx, { batch, lanes, seconds, recordBytes = RECORD_BYTES, label, streamPrefix = "tput" }) {
  const stream = await ctx.newStream(streamPrefix);
  const agent = unaryAgent(lanes);
  const bodyFor = (lane, n, j) => paddedBody(`t:${lane}:${n}:${j}:`, recordBytes);
  try {
    const w = await closedLoopWriter({
      client: ctx.client, basin: ctx.basin, stream, agent, lanes,
      durationMs: seconds * 1000, signal: ctx.signal,
      batchFor: (lane, n) => {
        const bodies = Array.from({ length: batch }, (_, j) => bodyFor(lane, n, j));
        return { bodies };
      },
    });
    const reasons = [...w.errors];
    if (ctx.signal.aborted) reasons.push("aborted");
    if (reasons.length === 0 && w.records === 0) reasons.push("no append was acknowledged");
    if (reasons.length === 0) {
      reasons.push(...await verifyAppends({
        client: ctx.client, basin: ctx.basin, stream, acks: w.acks,
        expectBody: (ack, j) => bodyFor(ack.lane, ack.n, j), readBack: 2000,
      }));
    }
    const secs = (w.tEnd - w.t0) / 1000;
    return {
      label: label ?? `batch ${batch} x ${lanes} in flight`,
      valid: reasons.length === 0,
      reason: reasons[0],
      records: w.records,
      batches: w.acks.length,
      seconds: round(secs),
      recordsPerSec: round(w.records / secs, 1),
      mibPerSec: round((w.records * recordBytes) / MiB / secs, 3),
      latencyKind: "ack",
      latency: summarize(w.latencyMs),
      extra: { batch, inFlight: lanes },
    };
  } finally {
    agent.destroy();
  }
}

export default {
  name: "append-throughput",
  description: "1 KiB records, batch 1/10/100/1000 x 1 and 8 in flight, fixed duration each",
  params: ({ quick }) => ({ batches: [1, 10, 100, 1000], inFlight: [1, 8], seconds: quick ? 2 : 6, recordBytes: RECORD_BYTES }),

  async run(ctx, p) {
    // Warm-up (not reported) so the first case does not pay for cold paths.
    await throughputCase(ctx, { batch: 10, lanes: 2, seconds: 1, streamPrefix: "warm" });
    const rows = [];
    for (const batch of p.batches) {
      for (const lanes of p.inFlight) {
        if (ctx.signal.aborted) break;
        const row = await throughputCase(ctx, { batch, lanes, seconds: p.seconds, recordBytes: p.recordBytes });
        ctx.log(`  ${row.label}: ${row.valid ? `${row.recordsPerSec} rec/s` : `INVALID ${row.reason}`}`);
        rows.push(row);
      }
    }
    const reasons = rows.filter((r) => !r.valid).map((r) => `${r.label}: ${r.reason}`);
    return { valid: reasons.length === 0, reasons, rows };
  },
};
