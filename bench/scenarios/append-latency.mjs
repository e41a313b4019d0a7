// Open-loop appends of single 1 KiB records at fixed rates, on every target; ack latency counted from the
// scheduled send time (a stalled server shows up as latency, not as a lower send rate). One fresh stream per
// rate and target; every record read back and compared.
import { unaryAgent } from "../lib/client.mjs";
import { logRow, onTarget, storageCost, targetsFor } from "../lib/cases.mjs";
import { MiB, round, summarize, paddedBody } from "../lib/stats.mjs";
import { fixedRateWriter } from "../lib/writers.mjs";

const RECORD_BYTES = 1024;

async function atRate(ctx, target, p, rate) {
  const stream = await target.newStream(`latency-${rate}`);
  const agent = unaryAgent(p.maxInFlight);
  const total = Math.round(rate * p.seconds);
  const bodyFor = (i) => paddedBody(`lat:${i}:`, p.recordBytes);
  try {
    const w = await fixedRateWriter({
      target, stream, agent,
      rate, total, inFlight: p.maxInFlight, signal: ctx.signal,
      batchFor: (i) => ({ bodies: [bodyFor(i)] }),
    });
    const reasons = [...w.errors];
    if (ctx.signal.aborted) reasons.push("aborted");
    if (reasons.length === 0 && w.acks.length !== total) reasons.push(`only ${w.acks.length} of ${total} appends acknowledged`);
    if (reasons.length === 0) {
      reasons.push(...await target.verifyAppends({
        stream, acks: w.acks, recordBytes: p.recordBytes, readBack: "all",
        expectBody: (ack) => bodyFor(ack.i),
      }));
    }
    const seconds = (w.tEnd - w.t0) / 1000;
    const records = w.acks.length;
    const achieved = records / seconds;
    return {
      label: `${rate}/s x ${p.seconds}s, batch 1`,
      valid: reasons.length === 0,
      reason: reasons[0],
      records,
      seconds: round(seconds),
      recordsPerSec: round(achieved, 1),
      mibPerSec: round((records * p.recordBytes) / MiB / seconds, 3),
      latencyKind: "ack",
      latency: summarize(w.latencyMs),
      storage: await storageCost(target, stream, records * p.recordBytes),
      extra: {
        targetRate: rate,
        // Below ~95% of the target the server did not keep up: latency is then mostly queueing.
        saturated: achieved < 0.95 * rate,
        serviceLatency: summarize(w.serviceMs),
      },
    };
  } finally {
    agent.destroy();
  }
}

export default {
  name: "append-latency",
  description: "1 KiB records, batch 1, fixed rates, every target; ack latency from the scheduled send time",
  params: ({ quick }) => ({ rates: quick ? [50] : [50, 200], seconds: quick ? 2 : 10, recordBytes: RECORD_BYTES, maxInFlight: 64 }),

  async run(ctx, p) {
    const rows = [];
    for (const target of targetsFor(ctx, p)) {
      // Warm-up: a few appends so the first rate does not pay for cold paths.
      const warm = await target.newStream("latency-warm");
      for (let i = 0; i < 20; i++) await target.append(warm, [paddedBody(`w:${i}:`, p.recordBytes)]);
      for (const rate of p.rates) {
        if (ctx.signal.aborted) break;
        const row = await onTarget(ctx, target, `${rate}/s x ${p.seconds}s, batch 1`, () => atRate(ctx, target, p, rate));
        logRow(ctx, row);
        rows.push(row);
      }
    }
    const reasons = rows.filter((r) => !r.valid).map((r) => `[${r.target}] ${r.label}: ${r.reason}`);
    return { valid: reasons.length === 0, reasons, rows };
  },
};
