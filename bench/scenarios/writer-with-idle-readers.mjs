// Append throughput (batch 100, closed loop) without, with, and again without N idle live readers attached
// (A-B-A, so drift and noise on a shared machine show up instead of passing for an effect), every target. The
// readers (SSE by default) follow a second, quiet stream, so they only receive heartbeats: what is measured is
// the cost of holding N open sessions for a writer on the same server, not fan-out (that is e2e-latency).
// Each reader must stay attached and receive no record.
import { performance } from "node:perf_hooks";
import { unaryAgent } from "../lib/client.mjs";
import { logRow, onTarget, targetsFor, throughputCase } from "../lib/cases.mjs";
import { RecordTracker } from "../lib/ds-client.mjs";
import { attachAll } from "../lib/reader-group.mjs";
import { sseAgent } from "../lib/sse.mjs";
import { round } from "../lib/stats.mjs";

async function onOne(ctx, target, p) {
  const reasons = [];
  const figures = {};
  const phase = (label, prefix) => onTarget(ctx, target, `batch ${p.batch} x ${p.inFlight}, ${label}`, () => throughputCase(ctx, target, {
    batch: p.batch, lanes: p.inFlight, seconds: p.seconds, label: `batch ${p.batch} x ${p.inFlight}, ${label}`, streamPrefix: prefix,
  }));
  // Warm-up so the first measured phase does not pay for cold code paths.
  await throughputCase(ctx, target, { batch: p.batch, lanes: p.inFlight, seconds: p.warmupSeconds, streamPrefix: "warm", readBack: 10 }).catch(() => undefined);

  const before = await phase("0 idle readers (before)", "idle0a");
  logRow(ctx, before);

  const quiet = await target.newStream("quiet");
  const from = await target.tailPosition(quiet);
  const agent = p.mode === "sse" ? sseAgent(p.readers + 16) : unaryAgent(p.readers + 16);
  const readers = Array.from({ length: p.readers }, () => target.reader(p.mode, {
    stream: quiet, agent, from,
    tracker: new RecordTracker({ expected: 0, recordBytes: 1024, expectRecord: () => undefined }),
  }));
  let loaded;
  try {
    const t = performance.now();
    const { attached, failed } = await attachAll(readers, { parallel: p.attachParallel, timeoutMs: p.attachTimeoutSec * 1000, signal: ctx.signal });
    figures.attachSeconds = round((performance.now() - t) / 1000);
    ctx.log(`  [${target.name}] ${attached}/${p.readers} idle readers attached in ${figures.attachSeconds}s`);
    if (attached !== p.readers) {
      reasons.push(`${p.readers - attached} of ${p.readers} idle readers failed to attach (first: ${failed[0]})`);
      return { reasons, figures, rows: [before] };
    }
    loaded = await phase(`${p.readers} idle readers`, "idlen");
    logRow(ctx, loaded);
    const dropped = readers.filter((r) => r.status !== "attached");
    if (dropped.length > 0) reasons.push(`${dropped.length} idle readers did not stay attached (first: ${dropped[0].reason})`);
  } finally {
    for (const r of readers) r.close();
    agent.destroy();
  }
  await ctx.quiesce?.(target);

  const after = await phase("0 idle readers (after)", "idle0b");
  logRow(ctx, after);
  const rows = [before, loaded, after];
  for (const row of rows) if (!row.valid) reasons.push(`${row.label}: ${row.reason}`);
  if (reasons.length === 0) {
    const baseline = (before.recordsPerSec + after.recordsPerSec) / 2;
    figures.throughputRatio = round(loaded.recordsPerSec / baseline, 3);
    figures.p50Ratio = round(loaded.latency.p50 / ((before.latency.p50 + after.latency.p50) / 2), 3);
    // How far the two baselines disagree: a ratio within this band is noise.
    figures.baselineSpread = round(Math.abs(before.recordsPerSec - after.recordsPerSec) / baseline, 3);
    loaded.extra.ratioVsNoReaders = figures.throughputRatio;
    loaded.extra.baselineSpread = figures.baselineSpread;
  } else if (loaded?.valid) {
    loaded.valid = false;
    loaded.reason = reasons[0];
  }
  return { reasons, figures, rows };
}

export default {
  name: "writer-with-idle-readers",
  description: "append throughput (batch 100) with 0 vs N idle live readers attached (A-B-A), every target; ratio",
  params: ({ quick, readers }) => ({
    readers: readers ?? (quick ? 100 : 1000),
    mode: "sse",
    batch: 100,
    inFlight: 1,
    seconds: quick ? 0.75 : 5,
    warmupSeconds: quick ? 0.25 : 1,
    attachParallel: 50,
    attachTimeoutSec: 120,
  }),

  async run(ctx, p) {
    const reasons = [];
    const rows = [];
    const figures = {};
    for (const target of targetsFor(ctx, p)) {
      if (ctx.signal.aborted) break;
      const r = await onOne(ctx, target, p);
      rows.push(...r.rows.map((row) => ({ ...row, target: target.name })));
      reasons.push(...r.reasons.map((why) => `[${target.name}] ${why}`));
      figures[target.name] = r.figures;
    }
    return { valid: reasons.length === 0, reasons, rows, figures };
  },
};
