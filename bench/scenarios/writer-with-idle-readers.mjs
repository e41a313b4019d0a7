// Append throughput (batch 100, closed loop) without, with, and again without N idle SSE followers attached
// (A-B-A, so drift and noise on a shared machine show up instead of passing for an effect). The followers
// tail a second, quiet stream, so they only receive heartbeats: what is measured is the cost of holding N
// open sessions (Worker sessions + the quiet stream object's hibernated WebSockets) for a writer on the same
// server, not fan-out (that is sse-fanout). Each follower must stay attached and receive no batch.
import { performance } from "node:perf_hooks";
import { round } from "../lib/stats.mjs";
import { FollowReader, attachAll, sseAgent } from "../lib/sse.mjs";
import { throughputCase } from "./append-throughput.mjs";

export default {
  name: "writer-with-idle-readers",
  description: "append throughput (batch 100) with 0 vs N idle SSE followers attached (A-B-A); ratio",
  params: ({ quick, readers }) => ({
    readers: readers ?? (quick ? 200 : 1000),
    batch: 100,
    inFlight: 1,
    seconds: quick ? 3 : 8,
    warmupSeconds: 1,
    attachParallel: 50,
    attachTimeoutSec: 120,
  }),

  async run(ctx, p) {
    const reasons = [];
    const figures = {};
    const phase = (label, prefix) => throughputCase(ctx, {
      batch: p.batch, lanes: p.inFlight, seconds: p.seconds, label: `batch ${p.batch} x ${p.inFlight}, ${label}`, streamPrefix: prefix,
    });
    const logRow = (row) => ctx.log(`  ${row.label}: ${row.valid ? `${row.recordsPerSec} rec/s` : `INVALID ${row.reason}`}`);
    // Warm-up so the first measured phase does not pay for cold code paths.
    await throughputCase(ctx, { batch: p.batch, lanes: p.inFlight, seconds: p.warmupSeconds, streamPrefix: "warm" });

    const before = await phase("0 idle readers (before)", "idle0a");
    logRow(before);

    const quiet = await ctx.newStream("quiet");
    const agent = sseAgent(p.readers + 16);
    const readers = Array.from({ length: p.readers }, () => new FollowReader({
      baseUrl: ctx.baseUrl, token: ctx.token, basin: ctx.basin, stream: quiet, agent, expected: 0,
    }));
    let loaded;
    try {
      const t = performance.now();
      const { attached, failed } = await attachAll(readers, { parallel: p.attachParallel, timeoutMs: p.attachTimeoutSec * 1000, signal: ctx.signal });
      figures.attachSeconds = round((performance.now() - t) / 1000);
      figures.attached = attached;
      ctx.log(`  ${attached}/${p.readers} idle readers attached in ${figures.attachSeconds}s`);
      if (attached !== p.readers) {
        reasons.push(`${p.readers - attached} of ${p.readers} idle readers failed to attach (first: ${failed[0]})`);
        return { valid: false, reasons, figures, rows: [before] };
      }
      loaded = await phase(`${p.readers} idle readers`, "idlen");
      logRow(loaded);
      const dropped = readers.filter((r) => r.status !== "attached");
      if (dropped.length > 0) reasons.push(`${dropped.length} idle readers did not stay attached (first: ${dropped[0].reason})`);
      figures.idleReaderPings = readers.reduce((s, r) => s + r.pings, 0);
    } finally {
      for (const r of readers) r.close();
      agent.destroy();
    }

    const after = await phase("0 idle readers (after)", "idle0b");
    logRow(after);
    const rows = [before, loaded, after];
    for (const row of rows) if (!row.valid) reasons.push(`${row.label}: ${row.reason}`);
    const valid = reasons.length === 0;
    if (valid) {
      const baseline = (before.recordsPerSec + after.recordsPerSec) / 2;
      figures.throughputRatio = round(loaded.recordsPerSec / baseline, 3);
      figures.p50Ratio = round(loaded.latency.p50 / ((before.latency.p50 + after.latency.p50) / 2), 3);
      // How far the two baselines disagree: a ratio within this band is noise.
      figures.baselineSpread = round(Math.abs(before.recordsPerSec - after.recordsPerSec) / baseline, 3);
      loaded.extra.ratioVsNoReaders = figures.throughputRatio;
      loaded.extra.baselineSpread = figures.baselineSpread;
    } else if (loaded.valid) {
      loaded.valid = false;
      loaded.reason = reasons[0];
    }
    return { valid, reasons, figures, rows };
  },
};
