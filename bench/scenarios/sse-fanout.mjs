// N SSE followers on one stream, all attached before a writer appends M single-record batches at a fixed rate.
// Every reader must get every record exactly once, in order, with the body that was acknowledged at that
// seq num; otherwise the run is INVALID. Latency: append send (timestamp carried in the body) → reader receive.
import { performance } from "node:perf_hooks";
import { MiB, round, summarize, paddedBody, checkAcks } from "../lib/stats.mjs";
import { unaryAgent } from "../lib/client.mjs";
import { FollowReader, attachAll, sseAgent } from "../lib/sse.mjs";
import { fixedRateWriter } from "../lib/writers.mjs";

export default {
  name: "sse-fanout",
  description: "N SSE readers on one stream; M single-record appends at a fixed rate; end-to-end latency",
  params: ({ quick, readers }) => ({
    readers: readers ?? (quick ? 200 : 1000),
    batches: quick ? 100 : 200,
    rate: 50,
    recordBytes: 256,
    attachParallel: 50,
    attachTimeoutSec: 120,
    drainTimeoutSec: 30,
  }),

  async run(ctx, p) {
    const stream = await ctx.newStream("fanout");
    const readerAgent = sseAgent(p.readers + 16);
    const writerAgent = unaryAgent(8);
    const readers = Array.from({ length: p.readers }, () => new FollowReader({
      baseUrl: ctx.baseUrl, token: ctx.token, basin: ctx.basin, stream, agent: readerAgent, expected: p.batches,
    }));
    const reasons = [];
    const figures = {};
    try {
      const tAttach = performance.now();
      const { attached, failed } = await attachAll(readers, {
        parallel: p.attachParallel, timeoutMs: p.attachTimeoutSec * 1000, signal: ctx.signal,
      });
      figures.attachSeconds = round((performance.now() - tAttach) / 1000);
      figures.attached = attached;
      ctx.log(`  ${attached}/${p.readers} readers attached in ${figures.attachSeconds}s`);
      if (attached !== p.readers) {
        reasons.push(`${p.readers - attached} of ${p.readers} readers failed to attach (first: ${failed[0] ?? readers.find((r) => r.status === "failed")?.reason})`);
        return { valid: false, reasons, figures, rows: [] };
      }

      const sent = [];
      const w = await fixedRateWriter({
        client: ctx.client, basin: ctx.basin, stream, agent: writerAgent,
        rate: p.rate, total: p.batches, inFlight: 8, signal: ctx.signal,
        batchFor: (i, now) => {
          const body = paddedBody(`fan:${i}:${now.toFixed(3)}:`, p.recordBytes);
          sent[i] = body;
          return { bodies: [body] };
        },
      });
      reasons.push(...w.errors);
      const { problems } = checkAcks(w.acks, 0);
      reasons.push(...problems);
      if (w.acks.length !== p.batches) reasons.push(`${w.acks.length} of ${p.batches} appends acknowledged`);
      ctx.log(`  writer done: ${w.acks.length} acks; waiting for readers`);

      // Bounded wait for every reader to finish (complete or failed).
      let timer;
      const drained = await Promise.race([
        Promise.all(readers.map((r) => r.finished)).then(() => true),
        new Promise((resolve) => { timer = setTimeout(() => resolve(false), p.drainTimeoutSec * 1000); }),
      ]);
      clearTimeout(timer);

      const complete = readers.filter((r) => r.status === "complete");
      const failedReaders = readers.filter((r) => r.status === "failed");
      const stuck = readers.filter((r) => r.status !== "complete" && r.status !== "failed");
      figures.readersCompleted = complete.length;
      figures.readersFailed = failedReaders.length;
      figures.readersStuck = stuck.length;
      if (!drained || stuck.length > 0) {
        const counts = stuck.map((r) => r.count);
        reasons.push(`${stuck.length} readers still incomplete ${p.drainTimeoutSec}s after the writer finished (records received: min ${Math.min(...counts)}, max ${Math.max(...counts)} of ${p.batches})`);
      }
      if (failedReaders.length > 0) {
        const byReason = new Map();
        for (const r of failedReaders) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
        const top = [...byReason].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([why, n]) => `${n}x ${why}`);
        reasons.push(`${failedReaders.length} readers failed: ${top.join("; ")}`);
      }

      // Body integrity: the body each reader saw at seq s is the one whose append was acknowledged at s.
      const bodyAtSeq = [];
      for (const a of w.acks) bodyAtSeq[a.start] = sent[a.i];
      let mismatches = 0;
      let firstMismatch;
      const e2e = [];
      const spread = [];
      for (const r of complete) {
        for (let k = 0; k < p.batches; k++) {
          if (r.bodies[k] !== bodyAtSeq[k]) {
            mismatches += 1;
            firstMismatch ??= `seq ${k}: got ${JSON.stringify(String(r.bodies[k]).slice(0, 30))}, acknowledged ${JSON.stringify(String(bodyAtSeq[k]).slice(0, 30))}`;
            continue;
          }
          const sentAt = Number(r.bodies[k].split(":")[2]);
          e2e.push(r.recvAt[k] - sentAt);
        }
      }
      if (mismatches > 0) reasons.push(`${mismatches} delivered bodies differ from the acknowledged ones (first: ${firstMismatch})`);
      for (let k = 0; k < p.batches && complete.length > 0; k++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const r of complete) {
          lo = Math.min(lo, r.recvAt[k]);
          hi = Math.max(hi, r.recvAt[k]);
        }
        spread.push(hi - lo);
      }
      const lastRecv = Math.max(...complete.map((r) => r.completedAt ?? 0));
      const seconds = (lastRecv - w.t0) / 1000;
      const delivered = complete.length * p.batches;
      figures.ackLatency = summarize(w.latencyMs);
      figures.deliverySpreadMs = summarize(spread);
      const row = {
        label: `${p.readers} readers x ${p.batches} records @${p.rate}/s`,
        valid: reasons.length === 0,
        reason: reasons[0],
        records: delivered,
        seconds: round(seconds),
        recordsPerSec: round(delivered / seconds, 1),
        mibPerSec: round((delivered * p.recordBytes) / MiB / seconds, 3),
        latencyKind: "e2e",
        latency: summarize(e2e),
        extra: { readersCompleted: complete.length, readers: p.readers, ackLatency: figures.ackLatency, deliverySpreadMs: figures.deliverySpreadMs },
      };
      return { valid: row.valid, reasons, figures, rows: [row] };
    } finally {
      for (const r of readers) r.close();
      readerAgent.destroy();
      writerAgent.destroy();
    }
  },
};
