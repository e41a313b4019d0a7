// N SSE followers on one stream, all attached before a writer appends M single-record batches at a fixed rate.
// Every reader must get every record exactly once, in order, with the body that was acknowledged at that
// seq num; otherwise the run is INVALID. Latency: append send (timestamp carried in the body) → reader receive.
import { performance } from "node:perf_hooks";
import { round, summarize, paddedBody, checkAcks } from "../lib/stats.mjs";
import { unaryAgent } from "../lib/client.mjs";
import { attachReaders, awaitReaders, deliveryRow, failedReadersReason } from "../lib/reader-group.mjs";
import { FollowReader, sseAgent } from "../lib/sse.mjs";
import { fixedRateWriter } from "../lib/writers.mjs";

export default {
  name: "sse-fanout",
  description: "ours-s2 only: N SSE readers, M single-record appends at 50/s (opt-in; e2e-latency covers every target)",
  optional: true,
  params: ({ quick, readers }) => ({
    readers: readers ?? (quick ? 200 : 1000),
    batches: quick ? 100 : 200,
    rate: 50,
    recordBytes: 256,
    attachParallel: 50,
    attachTimeoutSec: 120,
    drainTimeoutSec: quick ? 60 : 120,
    stallSec: 20,
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
      const attach = await attachReaders(readers, p, ctx.signal);
      figures.attachSeconds = attach.seconds;
      figures.attached = attach.attached;
      ctx.log(`  ${attach.attached}/${p.readers} readers attached in ${figures.attachSeconds}s`);
      if (attach.failure) {
        reasons.push(attach.failure);
        return { valid: false, reasons, figures, rows: [] };
      }

      const sent = [];
      const w = await fixedRateWriter({
        client: ctx.client, basin: ctx.basin, stream, agent: writerAgent,
        rate: p.rate, total: p.batches, inFlight: 8, signal: ctx.signal, maxErrors: 10,
        batchFor: (i, now) => {
          const body = paddedBody(`fan:${i}:${now.toFixed(3)}:`, p.recordBytes);
          sent[i] = body;
          return { bodies: [body] };
        },
      });
      if (w.errors.length > 0) {
        reasons.push(`${w.errors.length} appends failed${w.sent < p.batches ? `, so the writer stopped after sending ${w.sent} of ${p.batches}` : ""} (first: ${w.errors[0]})`);
      }
      figures.appendErrors = w.errors;
      if (w.errors.length === 0) {
        const { problems } = checkAcks(w.acks, 0);
        reasons.push(...problems);
        if (w.acks.length !== p.batches) reasons.push(`${w.acks.length} of ${p.batches} appends acknowledged`);
      }
      ctx.log(`  writer done: ${w.acks.length} acks; waiting for readers`);

      const tWriterDone = performance.now();
      const waitEnd = await awaitReaders(readers, p, ctx.signal);
      figures.readersDrainSeconds = round((performance.now() - tWriterDone) / 1000);
      figures.waitEnd = waitEnd;
      const drained = waitEnd === "complete";

      // What the stream itself holds: which appends made it, in which order (bounded: at most M records).
      let stored;
      try {
        const tail = await ctx.client.tail(ctx.basin, stream);
        stored = await ctx.client.readRange(ctx.basin, stream, 0, Math.min(tail.seq_num, p.batches * 2));
        const order = stored.map((r) => Number(String(r.body ?? "").split(":")[1]));
        const seen = new Set(order);
        const acked = new Set(w.acks.map((a) => a.i));
        figures.stream = {
          tail: tail.seq_num,
          stored: stored.length,
          duplicates: order.length - seen.size,
          unacknowledgedButStored: [...seen].filter((i) => !acked.has(i)).length,
          sentButNotStored: sent.map((_, i) => i).filter((i) => !seen.has(i)).length,
        };
        const ackedElsewhere = w.acks.filter((a) => stored[a.start]?.body !== sent[a.i]).length;
        if (ackedElsewhere > 0) reasons.push(`${ackedElsewhere} acknowledged appends are not stored at the seq num their ack named`);
        if (tail.seq_num !== w.acks.length || figures.stream.duplicates > 0) {
          reasons.push(`stream holds ${tail.seq_num} records (${figures.stream.duplicates} duplicates, ${figures.stream.unacknowledgedButStored} never acknowledged, ${figures.stream.sentButNotStored} sent but absent) for ${w.acks.length} acknowledged appends of ${sent.length} sent`);
        }
      } catch (err) {
        reasons.push(`could not read the stream back: ${err.message}`);
      }

      const complete = readers.filter((r) => r.status === "complete");
      const failedReaders = readers.filter((r) => r.status === "failed");
      const stuck = readers.filter((r) => r.status !== "complete" && r.status !== "failed");
      figures.readersCompleted = complete.length;
      figures.readersFailed = failedReaders.length;
      figures.readersStuck = stuck.length;
      if (!drained || stuck.length > 0) {
        const counts = stuck.map((r) => r.count);
        const now = performance.now();
        const quietFor = stuck.map((r) => (now - (r.lastBatchAt ?? tWriterDone)) / 1000);
        const pinged = stuck.filter((r) => r.pingsSinceBatch > 0).length;
        const why = waitEnd === "stalled"
          ? `no reader received a record for ${p.stallSec}s`
          : `still delivering when the ${p.drainTimeoutSec}s limit after the writer finished was reached`;
        const held = figures.stream?.tail;
        const lacking = held === undefined ? "" : `; ${stuck.filter((r) => r.count < held).length} of them lack records the stream holds (tail ${held})`;
        reasons.push(`${stuck.length} readers incomplete (${why}): records received min ${Math.min(...counts)}, max ${Math.max(...counts)} of ${p.batches}; last batch ${round(Math.min(...quietFor), 1)}-${round(Math.max(...quietFor), 1)}s ago; ${pinged} of them got a heartbeat after their last batch${lacking}`);
        figures.incomplete = {
          readers: stuck.length,
          recordsReceived: summarize(counts),
          secondsSinceLastBatch: summarize(quietFor),
          heartbeatAfterLastBatch: pinged,
        };
      }
      if (failedReaders.length > 0) reasons.push(failedReadersReason(failedReaders));

      // Body integrity: the body each reader saw at seq s is the one the stream holds at s (read back above),
      // or, if that read failed, the one whose append was acknowledged at s.
      const bodyAtSeq = [];
      for (const a of w.acks) bodyAtSeq[a.start] = sent[a.i];
      if (stored) stored.forEach((r, k) => { bodyAtSeq[k] = r.body ?? ""; });
      let mismatches = 0;
      let firstMismatch;
      const e2e = [];
      const spread = [];
      for (const r of complete) {
        for (let k = 0; k < p.batches; k++) {
          if (r.bodies[k] !== bodyAtSeq[k]) {
            mismatches += 1;
            firstMismatch ??= `seq ${k}: got ${JSON.stringify(String(r.bodies[k]).slice(0, 30))}, stream holds ${JSON.stringify(String(bodyAtSeq[k]).slice(0, 30))}`;
            continue;
          }
          const sentAt = Number(r.bodies[k].split(":")[2]);
          e2e.push(r.recvAt[k] - sentAt);
        }
      }
      if (mismatches > 0) reasons.push(`${mismatches} delivered bodies differ from what the stream holds (first: ${firstMismatch})`);
      for (let k = 0; k < p.batches && complete.length > 0; k++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const r of complete) {
          lo = Math.min(lo, r.recvAt[k]);
          hi = Math.max(hi, r.recvAt[k]);
        }
        spread.push(hi - lo);
      }
      figures.ackLatency = summarize(w.latencyMs);
      figures.deliverySpreadMs = summarize(spread);
      const row = deliveryRow({
        label: `${p.readers} readers x ${p.batches} records @${p.rate}/s`,
        reasons, complete, recordsEach: p.batches, recordBytes: p.recordBytes, t0: w.t0, e2e,
        extra: { readersCompleted: complete.length, readers: p.readers, ackLatency: figures.ackLatency, deliverySpreadMs: figures.deliverySpreadMs },
      });
      return { valid: row.valid, reasons, figures, rows: [row] };
    } finally {
      for (const r of readers) r.close();
      readerAgent.destroy();
      writerAgent.destroy();
    }
  },
};
