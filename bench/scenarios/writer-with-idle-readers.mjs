// Append throughput (batch 100, closed loop) without and then with N idle SSE followers attached to the same
// server. The followers tail a second, quiet stream, so they receive only heartbeats: what is measured is the
// cost of holding N open sessions (Worker sessions + the stream object's hibernated WebSockets) for an
// unrelated writer, not fan-out (that is sse-fanout). Each follower must stay attached and get no batch.
import { performance } from "node:perf_hooks";
import { round } from "../lib/stats.mjs";
import { FollowReader, attachAll, sseAgent } from "../lib/sse.mjs";
import { throughputCase } from "./append-throughput.mjs";

export default {
  name: "writer-with-idle-readers",
  description: "append throughput (batch 100) with 0 vs N idle SSE followers attached; ratio",
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
    // Warm-up so the first measured phase does not pay for cold code paths.
    await throughputCase(ctx, { batch: p.batch, lanes: p.inFlight, seconds: p.warmupSeconds, streamPrefix: "warm" });

    const base = await throughputCase(ctx, {
      batch: p.batch, lanes: p.inFlight, seconds: p.seconds, label: `batch ${p.batch} x ${p.inFlight}, 0 idle readers`, streamPrefix: "idle0",
    });
    ctx.log(`  0 readers: ${base.valid ? `${base.recordsPerSec} rec/s` : `INVALID ${base.reason}`}`);

    const quiet = await ctx.newStream("quiet");
    const agent = sseAgent(p.readers + 16);
    const readers = Array.from({ length: p.readers }, () => new FollowReader({
      baseUrl: ctx.baseUrl, token: ctx.token, basin: ctx.basin, stream: quiet, agent, expected: 0,
    }));
    try {
      const t = performance.now();
      const { attached, failed } = await attachAll(readers, { parallel: p.attachParallel, timeoutMs: p.attachTimeoutSec * 1000, signal: ctx.signal });
      figures.attachSeconds = round((performance.now() - t) / 1000);
      figures.attached = attached;
      ctx.log(`  ${attached}/${p.readers} idle readers attached in ${figures.attachSeconds}s`);
      if (attached !== p.readers) {
        reasons.push(`${p.readers - attached} of ${p.readers} idle readers failed to attach (first: ${failed[0]})`);
        return { valid: false, reasons, figures, rows: [] };
      }
      const loaded = await throughputCase(ctx, {
        batch: p.batch, lanes: p.inFlight, seconds: p.seconds, label: `batch ${p.batch} x ${p.inFlight}, ${p.readers} idle readers`, streamPrefix: "idlen",
      });
      ctx.log(`  ${p.readers} readers: ${loaded.valid ? `${loaded.recordsPerSec} rec/s` : `INVALID ${loaded.reason}`}`);

      const dropped = readers.filter((r) => r.status !== "attached");
      if (dropped.length > 0) reasons.push(`${dropped.length} idle readers did not stay attached (first: ${dropped[0].reason})`);
      figures.idleReaderPings = readers.reduce((s, r) => s + r.pings, 0);
      for (const row of [base, loaded]) if (!row.valid) reasons.push(`${row.label}: ${row.reason}`);
      const valid = reasons.length === 0;
      if (valid) {
        figures.throughputRatio = round(loaded.recordsPerSec / base.recordsPerSec, 3);
        figures.p50Ratio = round(loaded.latency.p50 / base.latency.p50, 3);
        loaded.extra.ratioVsNoReaders = figures.throughputRatio;
      } else {
        loaded.valid = false;
        loaded.reason ??= reasons[0];
      }
      return { valid, reasons, figures, rows: [base, loaded] };
    } finally {
      for (const r of readers) r.close();
      agent.destroy();
    }
  },
};
