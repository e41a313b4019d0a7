// Open-loop appends of single 1 KiB records at a fixed rate; ack latency counted from the scheduled send time.
import { MiB, round, summarize, paddedBody } from "../lib/stats.mjs";
import { unaryAgent } from "../lib/client.mjs";
import { fixedRateWriter } from "../lib/writers.mjs";
import { verifyAppends } from "../lib/verify.mjs";

const RECORD_BYTES = 1024;

export default {
  name: "append-latency",
  description: "1 KiB records, batch 1, fixed rate; ack latency from the scheduled send time",
  params: ({ quick }) => ({ rate: 200, seconds: quick ? 4 : 15, recordBytes: RECORD_BYTES, maxInFlight: 64 }),

  async run(ctx, p) {
    const stream = await ctx.newStream("latency");
    const agent = unaryAgent(p.maxInFlight);
    const total = p.rate * p.seconds;
    const bodyFor = (i) => paddedBody(`lat:${i}:`, p.recordBytes);
    try {
      const w = await fixedRateWriter({
        client: ctx.client, basin: ctx.basin, stream, agent,
        rate: p.rate, total, inFlight: p.maxInFlight, signal: ctx.signal,
        batchFor: (i) => ({ bodies: [bodyFor(i)] }),
      });
      const reasons = [...w.errors];
      if (!ctx.signal.aborted && w.errors.length === 0 && w.acks.length !== total) reasons.push(`only ${w.acks.length} of ${total} appends acknowledged`);
      if (reasons.length === 0) {
        reasons.push(...await verifyAppends({
          client: ctx.client, basin: ctx.basin, stream, acks: w.acks,
          expectBody: (ack) => bodyFor(ack.i), readBack: "all",
        }));
      }
      const seconds = (w.tEnd - w.t0) / 1000;
      const records = w.acks.length;
      const row = {
        label: `${p.rate}/s x ${p.seconds}s, batch 1`,
        valid: reasons.length === 0,
        reason: reasons[0],
        records,
        seconds: round(seconds),
        recordsPerSec: round(records / seconds, 1),
        mibPerSec: round((records * p.recordBytes) / MiB / seconds, 3),
        latencyKind: "ack",
        latency: summarize(w.latencyMs),
        extra: { serviceLatency: summarize(w.serviceMs), targetRate: p.rate },
      };
      return { valid: row.valid, reasons, rows: [row] };
    } finally {
      agent.destroy();
    }
  },
};
