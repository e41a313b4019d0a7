// End-to-end latency with N live readers (1 / 10 / 100 / 1000), SSE and long-poll, on every target: all readers
// attach at the tail of a fresh stream, then one writer appends single 1 KiB records at a fixed, low rate (so
// the figure is delivery latency, not saturation), one at a time. Latency: the append's *scheduled* send time
// → the moment a reader has the record. Every reader must get every record exactly once, in order, byte for
// byte (checked as it arrives), and the stream must hold exactly what was sent; otherwise the case is INVALID.
//
// Readers: ours-s2 SSE = `GET /v1/streams/{s}/records` (text/event-stream), ours-s2 long-poll = unary reads
// with `wait`; Durable Streams targets: `live=sse` / `live=long-poll` (ds-client.mjs).
import { performance } from "node:perf_hooks";
import { unaryAgent } from "../lib/client.mjs";
import { logRow, onTarget, targetsFor } from "../lib/cases.mjs";
import { RecordTracker } from "../lib/ds-client.mjs";
import { attachReaders, awaitReaders, deliveryRow, failedReadersReason } from "../lib/reader-group.mjs";
import { sseAgent } from "../lib/sse.mjs";
import { round, summarize, paddedBody, sleep } from "../lib/stats.mjs";
import { fixedRateWriter } from "../lib/writers.mjs";

async function oneCase(ctx, target, p, readersN, mode) {
  const label = `${readersN} readers, ${mode}`;
  const stream = await target.newStream(`e2e-${mode}-${readersN}`);
  const total = Math.round(p.rate * p.seconds);
  const sent = new Array(total);
  const scheduledAt = new Float64Array(total);
  const from = await target.tailPosition(stream);
  const agent = mode === "sse" ? sseAgent(readersN + 16) : unaryAgent(readersN + 16);
  const writerAgent = unaryAgent(2);
  const readers = Array.from({ length: readersN }, () => target.reader(mode, {
    stream, agent, from,
    tracker: new RecordTracker({ expected: total, recordBytes: p.recordBytes, expectRecord: (k) => sent[k] }),
  }));
  const reasons = [];
  const extra = { mode, readers: readersN, rate: p.rate };
  try {
    const attach = await attachReaders(readers, p, ctx.signal);
    extra.attachSeconds = attach.seconds;
    if (attach.failure) return { label, valid: false, reason: attach.failure, extra };
    // Long-poll readers count as attached once their request is written; give the server a moment to park them.
    if (mode === "long-poll") await sleep(Math.min(2000, 200 + readersN), ctx.signal);

    // One append at a time, so the stream's k-th record is the k-th one sent.
    const w = await fixedRateWriter({
      target, stream, agent: writerAgent,
      rate: p.rate, total, inFlight: 1, signal: ctx.signal, maxErrors: 1,
      batchFor: (i, _now, scheduled) => {
        sent[i] = paddedBody(`e2e:${i}:`, p.recordBytes);
        scheduledAt[i] = scheduled;
        return { bodies: [sent[i]] };
      },
    });
    if (w.errors.length > 0) reasons.push(`append failed, writer stopped after ${w.sent} of ${total}: ${w.errors[0]}`);
    else if (w.acks.length !== total) reasons.push(`${w.acks.length} of ${total} appends acknowledged`);

    const tWriterDone = performance.now();
    const waitEnd = await awaitReaders(readers, p, ctx.signal);
    extra.readersDrainSeconds = round((performance.now() - tWriterDone) / 1000);

    const complete = readers.filter((r) => r.status === "complete");
    const failedReaders = readers.filter((r) => r.status === "failed");
    const stuck = readers.filter((r) => r.status !== "complete" && r.status !== "failed");
    extra.readersCompleted = complete.length;
    if (stuck.length > 0) {
      const counts = stuck.map((r) => r.count);
      reasons.push(`${stuck.length} readers incomplete (${waitEnd}): got ${Math.min(...counts)}..${Math.max(...counts)} of ${total} records`);
    }
    if (failedReaders.length > 0) reasons.push(failedReadersReason(failedReaders));
    // What the stream holds is exactly what was sent, in order.
    if (reasons.length === 0) {
      reasons.push(...await target.verifyAppends({ stream, acks: w.acks, recordBytes: p.recordBytes, readBack: "all", expectBody: (ack) => sent[ack.i] }));
    }

    const e2e = [];
    for (const r of complete) for (let k = 0; k < total; k++) e2e.push(r.recvAt[k] - scheduledAt[k]);
    extra.ackLatency = summarize(w.latencyMs);
    extra.requestsPerReader = round(readers.reduce((s, r) => s + (r.requests ?? 0), 0) / readersN, 1);
    return deliveryRow({ label, reasons, complete, recordsEach: total, recordBytes: p.recordBytes, t0: w.t0, e2e, extra });
  } finally {
    for (const r of readers) r.close();
    agent.destroy();
    writerAgent.destroy();
  }
}

export default {
  name: "e2e-latency",
  description: "N live readers (SSE, long-poll) on one stream, 1 KiB appends at a low fixed rate; end-to-end latency, every target",
  params: ({ quick, readers }) => ({
    readers: readers ? [readers] : quick ? [10] : [1, 10, 100, 1000],
    modes: ["sse", "long-poll"],
    rate: 10,
    seconds: quick ? 1.5 : 5,
    recordBytes: 1024,
    attachParallel: 50,
    attachTimeoutSec: 120,
    drainTimeoutSec: quick ? 20 : 90,
    stallSec: 20,
  }),

  async run(ctx, p) {
    const rows = [];
    for (const target of targetsFor(ctx, p)) {
      for (const mode of p.modes) {
        for (const n of p.readers) {
          if (ctx.signal.aborted) break;
          const row = await onTarget(ctx, target, `${n} readers, ${mode}`, () => oneCase(ctx, target, p, n, mode));
          logRow(ctx, row);
          rows.push(row);
          // Let the server notice the closed readers before the next case attaches its own.
          if (n >= 100) await ctx.quiesce?.(target);
        }
      }
    }
    const reasons = rows.filter((r) => !r.valid).map((r) => `[${r.target}] ${r.label}: ${r.reason}`);
    return { valid: reasons.length === 0, reasons, rows };
  },
};
