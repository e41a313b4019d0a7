// Catch-up read throughput of 1 KiB records, every target, every record checked byte for byte:
//
//   hot tail   a stream small enough to stay in its object's SQLite (below SEAL_TAIL_BYTES, 4 MiB by
//              default), read `passes` times, each pass from a different batch boundary (a Durable Streams
//              catch-up read of history is cached at the edge by URL, so a repeated URL would measure the
//              cache, not the tail);
//   sealed     a stream big enough that sealing moves most of it into R2 segments (default thresholds: the
//              tail keeps ≤ 4 MiB, segments of 8 MiB); the bench waits until the state dir shows the tail
//              sealed down, then reads the sealed range once. The reference server has no tiers: the same
//              number of records is read from its start (memory, or its log file).
//
// Figures: MiB/s and records/s of record bytes read (one reader, sequential requests); latency = time per
// request; server CPU and RSS of the reads only (not the fill).
import { performance } from "node:perf_hooks";
import { unaryAgent } from "../lib/client.mjs";
import { logRow, onTarget, targetsFor } from "../lib/cases.mjs";
import { MiB, round, summarize, paddedBody, sleep } from "../lib/stats.mjs";
import { expectedRecords, meter, orderAcks } from "../lib/targets.mjs";
import { closedLoopWriter } from "../lib/writers.mjs";

/** Fills a fresh stream with `mib` MiB of records (batch × lanes, closed loop), verified; resolves its acks. */
async function fill(ctx, target, p, mib, prefix) {
  const stream = await target.newStream(prefix);
  const agent = unaryAgent(p.fillLanes);
  const bodyFor = (lane, n, j) => paddedBody(`cu:${lane}:${n}:${j}:`, p.recordBytes);
  const batches = Math.ceil((mib * MiB) / (p.recordBytes * p.fillBatch));
  try {
    const w = await closedLoopWriter({
      target, stream, agent, lanes: p.fillLanes, durationMs: 600_000, maxBatches: batches, signal: ctx.signal,
      batchFor: (lane, n) => ({ bodies: Array.from({ length: p.fillBatch }, (_, j) => bodyFor(lane, n, j)) }),
    });
    if (w.errors.length > 0) throw new Error(`fill failed: ${w.errors[0]}`);
    const problems = await target.verifyAppends({ stream, acks: w.acks, recordBytes: p.recordBytes, readBack: 100, expectBody: (ack, j) => bodyFor(ack.lane, ack.n, j) });
    if (problems.length > 0) throw new Error(`fill: ${problems[0]}`);
    const order = orderAcks(target, w.acks);
    return { stream, order, expect: expectedRecords(order, (ack, j) => bodyFor(ack.lane, ack.n, j)), fillSeconds: (w.tEnd - w.t0) / 1000 };
  } finally {
    agent.destroy();
  }
}

/** Reads `records` from batch boundary `batch` on; resolves { bytes, records, requestMs[] }. */
async function readFrom(target, filled, batch, records, p, agent) {
  const fromRecord = filled.order.firstRecord[batch];
  const from = target.positionAfter(filled.order.sorted, batch);
  const t0 = performance.now();
  const r = await target.catchUp(filled.stream, {
    from, records, recordBytes: p.recordBytes, agent,
    expectRecord: (k) => filled.expect(fromRecord + k),
  });
  return { ...r, ms: performance.now() - t0 };
}

function row(label, reads, p, extra) {
  const ms = reads.reduce((s, r) => s + r.ms, 0);
  const records = reads.reduce((s, r) => s + r.records, 0);
  const requests = reads.reduce((s, r) => s + r.requests, 0);
  return {
    label,
    valid: true,
    records,
    seconds: round(ms / 1000),
    recordsPerSec: round(records / (ms / 1000), 1),
    mibPerSec: round((records * p.recordBytes) / MiB / (ms / 1000), 2),
    latencyKind: "request",
    // Time per catch-up request (they are sequential: one reader).
    latency: summarize(reads.flatMap((r) => r.requestMs)),
    extra: { requests, bytesPerRequest: Math.round((records * p.recordBytes) / requests), ...extra },
  };
}

async function hotTail(ctx, target, p) {
  const filled = await fill(ctx, target, p, p.hotMiB, "hot");
  const storage = await target.storage(filled.stream);
  if (storage && storage.segments > 0) throw new Error(`the hot-tail stream was sealed (${storage.segments} segments): not a tail read`);
  const agent = unaryAgent(1);
  const m = meter(target);
  try {
    const reads = [];
    const total = filled.order.total;
    for (let pass = 0; pass < p.passes && !ctx.signal.aborted; pass++) {
      const batch = pass % Math.max(1, filled.order.sorted.length - 1);
      reads.push(await readFrom(target, filled, batch, total - filled.order.firstRecord[batch], p, agent));
    }
    return { ...row(`hot tail, ${p.hotMiB} MiB x ${p.passes} passes`, reads, p, { passes: reads.length, tailBytes: storage?.tailBytes }), server: m.stop() };
  } finally {
    m.stop();
    agent.destroy();
  }
}

async function sealed(ctx, target, p) {
  const filled = await fill(ctx, target, p, p.sealedMiB, "sealed");
  let records = filled.order.total;
  const extra = {};
  if (target.ours) {
    // Wait for sealing to bring the tail down to SEAL_TAIL_BYTES (the object's alarm seals after appends).
    const t0 = performance.now();
    let s = await target.storage(filled.stream);
    while (!ctx.signal.aborted && performance.now() - t0 < p.sealWaitSec * 1000) {
      if (s && s.segments > 0 && s.tailBytes <= p.sealedTailBytes) break;
      await sleep(250, ctx.signal);
      s = await target.storage(filled.stream);
    }
    extra.sealWaitSeconds = round((performance.now() - t0) / 1000);
    if (!s || s.segments === 0) throw new Error(`nothing was sealed within ${p.sealWaitSec}s (tail ${s?.tailBytes} bytes)`);
    if (s.tailBytes > p.sealedTailBytes) throw new Error(`the tail still holds ${s.tailBytes} bytes after ${p.sealWaitSec}s (${s.segments} segments)`);
    // Only the sealed range: records [0, sealedEnd) of this stream are in R2.
    records = s.sealedEndSeqNum * (target.protocol === "ds" ? p.fillBatch : 1);
    Object.assign(extra, { segments: s.segments, sealedBytes: s.sealedBytes, tailBytes: s.tailBytes, sealedRows: s.sealedRows });
    extra.storage = { sqliteRowsPerMiB: round(s.recordRows / p.sealedMiB, 2), r2PutsPerMiB: round(s.segments / p.sealedMiB, 3) };
  }
  const storage = extra.storage;
  delete extra.storage;
  extra.what = target.ours ? "the sealed range only (R2 segments)" : "from the start (the reference server does not tier)";
  const agent = unaryAgent(1);
  const m = meter(target);
  try {
    const read = await readFrom(target, filled, 0, records, p, agent);
    return { ...row(`sealed segments, ${p.sealedMiB} MiB stream`, [read], p, extra), storage, server: m.stop() };
  } finally {
    m.stop();
    agent.destroy();
  }
}

export default {
  name: "catch-up",
  description: "catch-up reads of 1 KiB records from the hot tail and from sealed R2 segments, every target",
  params: ({ quick }) => ({
    recordBytes: 1024,
    hotMiB: 3,
    passes: quick ? 2 : 6,
    sealedMiB: quick ? 24 : 96,
    // Sealing is done when the tail is back under SEAL_TAIL_BYTES (4 MiB default) plus one fill batch.
    sealedTailBytes: 5 * MiB,
    sealWaitSec: quick ? 20 : 60,
    fillBatch: 1000,
    fillLanes: 4,
  }),

  async run(ctx, p) {
    const rows = [];
    for (const target of targetsFor(ctx, p)) {
      for (const [label, fn] of [["hot tail", hotTail], ["sealed segments", sealed]]) {
        if (ctx.signal.aborted) break;
        const r = await onTarget(ctx, target, label, () => fn(ctx, target, p));
        logRow(ctx, r);
        rows.push(r);
      }
    }
    const reasons = rows.filter((r) => !r.valid).map((r) => `[${r.target}] ${r.label}: ${r.reason}`);
    return { valid: reasons.length === 0, reasons, rows };
  },
};
