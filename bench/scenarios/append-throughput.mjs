// Closed-loop appends of 1 KiB records: batch sizes × requests in flight, each case on a fresh stream, on every
// target (ours through S2 and Durable Streams, the reference server in memory and file-backed).
import { logRow, onTarget, targetsFor, throughputCase as throughputOn } from "../lib/cases.mjs";

const RECORD_BYTES = 1024;

/**
 * One closed-loop run on a fresh stream, verified; on `opts.target` (a target from ctx.targets) or, without
 * one, on our server through S2 (what this helper did before targets existed).
 */
export async function throughputCase(ctx, opts) {
  const target = opts.target ?? ctx.target("ours-s2");
  return throughputOn(ctx, target, opts);
}

export default {
  name: "append-throughput",
  description: "1 KiB records, batch 1/10/100/1000 x 1 and 8 in flight, fixed duration each, every target",
  params: ({ quick }) => ({
    batches: quick ? [1, 100] : [1, 10, 100, 1000],
    inFlight: [1, 8],
    seconds: quick ? 0.75 : 5,
    recordBytes: RECORD_BYTES,
  }),

  async run(ctx, p) {
    const rows = [];
    for (const target of targetsFor(ctx, p)) {
      // Warm-up (not reported) so the first case does not pay for cold paths.
      await throughputOn(ctx, target, { batch: 10, lanes: 2, seconds: ctx.opts.quick ? 0.25 : 1, streamPrefix: "warm", readBack: 10 }).catch(() => undefined);
      for (const batch of p.batches) {
        for (const lanes of p.inFlight) {
          if (ctx.signal.aborted) break;
          const label = `batch ${batch} x ${lanes} in flight`;
          const row = await onTarget(ctx, target, label, () => throughputOn(ctx, target, { batch, lanes, seconds: p.seconds, recordBytes: p.recordBytes, label }));
          logRow(ctx, row);
          rows.push(row);
        }
      }
    }
    const reasons = rows.filter((r) => !r.valid).map((r) => `[${r.target}] ${r.label}: ${r.reason}`);
    return { valid: reasons.length === 0, reasons, rows };
  },
};
