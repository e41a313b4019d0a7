// Bounded object storage (the tiered-storage issue, item 3): at least 1 GiB appended to ONE stream of the local
// server (the default seal thresholds of src/stream/seal-policy.ts: seal past 4 MiB of tail, 8 MiB
// segments, appends refused past a 256 MiB tail), its StreamObject's SQLite file (plus its WAL) sampled under the
// persist dir the whole time, then the whole stream read back with every record's bytes checked.
//
// Valid when: every batch is acknowledged (a retryable 503 from a full tail is retried, and counted), the acks tile
// the stream, the tail agrees, every record reads back byte-identical (bodies and headers are regenerated from
// (lane, batch, index) by a deterministic generator, so nothing of the 1 GiB is kept in memory), and the SQLite
// file never exceeds the bound: TAIL_BYTES_MAX (the configured hard bound on the tail, default 256 MiB) plus
// `slackMiB` for the segment index and SQLite's own pages. The peak is also reported against SEAL_TAIL_BYTES,
// where a healthy stream's tail hovers.
//
// Opt-in (`--scenario bounded-storage`): a full run appends and reads 1 GiB (a few minutes); with --quick,
// 64 MiB.
import { createCipheriv, createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { request, unaryAgent } from "../lib/client.mjs";
import { MiB, round, sleep, summarize } from "../lib/stats.mjs";

/** The server's defaults (src/stream/seal-policy.ts); the bench's server runs without overrides. */
const SEAL_TAIL_BYTES = 4 * MiB;
const TAIL_BYTES_MAX = 256 * MiB;

const KEY = createHash("sha256").update("edgestream bench bounded-storage").digest();

/** Integer hash of a record's identity, for its length. */
function mix(a, b, c) {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(c + 1, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/**
 * Record j of batch n of lane `lane`: its length (recordMin..recordMax ASCII bytes) and body, the base64 of an
 * AES-256-CTR keystream whose IV is the identity: reproducible anywhere, incompressible-looking, valid UTF-8.
 */
function recordFor(lane, n, j, p) {
  const length = p.recordMin + (mix(lane, n, j) % (p.recordMax - p.recordMin + 1));
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(lane, 0);
  iv.writeUInt32BE(n, 4);
  iv.writeUInt32BE(j, 8);
  const cipher = createCipheriv("aes-256-ctr", KEY, iv);
  const body = cipher.update(Buffer.alloc(Math.ceil((length * 3) / 4) + 3)).toString("base64").slice(0, length);
  return { id: `${lane}:${n}:${j}`, body };
}

const batchFor = (lane, n, p) => Array.from({ length: p.batchRecords }, (_, j) => recordFor(lane, n, j, p));

/** Bytes of the object's SQLite file and its WAL (workerd keeps DO databases in WAL mode). */
function sqliteBytes(file) {
  let total = 0;
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) total += statSync(f).size;
  return total;
}

export default {
  name: "bounded-storage",
  description: "≥ 1 GiB appended to one stream: its object's SQLite stays under the tail bound, the whole stream reads back byte-identical",
  optional: true,
  params: ({ quick }) => ({
    totalMiB: quick ? 64 : 1024,
    lanes: 4,
    // 16 records of 32–63 KiB: at most 1,032,576 metered bytes, under the 1 MiB batch limit.
    batchRecords: 16,
    recordMin: 32 * 1024,
    recordMax: 63 * 1024,
    readers: 4,
    slackMiB: 32,
    sampleMs: 200,
  }),

  async run(ctx, p) {
    const { baseUrl, token, basin, inspector } = ctx;
    if (!inspector) return { valid: false, reasons: ["the bench gives no state dir inspector (ctx.inspector)"], rows: [] };
    const stream = `bounded-storage-${Date.now().toString(36)}`;
    await ctx.client.createStream(basin, stream);
    const path = `/v1/streams/${encodeURIComponent(stream)}/records`;
    const headers = { authorization: `Bearer ${token}`, "s2-basin": basin, "s2-format": "raw", accept: "application/json" };
    const agent = unaryAgent(Math.max(p.lanes, p.readers));
    const reasons = [];
    const target = p.totalMiB * MiB;

    // SQLite sampling: the stream's own file, found through the state dir once the stream has a row.
    let file;
    let peak = 0;
    let peakAt = 0;
    let appended = 0;
    const sample = async () => {
      if (!file) {
        await inspector.stream(basin, stream);
        file = inspector.files.get(`${basin}/${stream}`);
      }
      if (!file) return;
      const size = sqliteBytes(file);
      if (size > peak) {
        peak = size;
        peakAt = appended;
      }
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sample().catch(() => undefined);
        await sleep(p.sampleMs);
      }
    })();

    try {
      // Appends: `lanes` closed loops until `totalMiB` MiB of bodies are acknowledged.
      const acks = [];
      const ackMs = [];
      let refusals = 0;
      let records = 0;
      const t0 = performance.now();
      const lane = async (l) => {
        for (let n = 0; appended < target && !ctx.signal.aborted && reasons.length === 0; n++) {
          const batch = batchFor(l, n, p);
          const body = JSON.stringify({ records: batch.map((r) => ({ headers: [["id", r.id]], body: r.body })) });
          for (let attempt = 0; ; attempt++) {
            const sent = performance.now();
            const res = await request(baseUrl, "POST", path, { headers: { ...headers, "content-type": "application/json" }, body, agent, timeoutMs: 60_000 });
            if (res.status === 200) {
              ackMs.push(performance.now() - sent);
              const ack = JSON.parse(res.text);
              acks.push({ start: ack.start.seq_num, end: ack.end.seq_num, lane: l, n });
              if (ack.end.seq_num - ack.start.seq_num !== batch.length) reasons.push(`batch ${l}:${n} acknowledged ${ack.end.seq_num - ack.start.seq_num} records of ${batch.length}`);
              appended += batch.reduce((s, r) => s + r.body.length, 0);
              records += batch.length;
              break;
            }
            // The tail is full while sealing catches up: retryable, and never a loss. Anything else is a failure.
            if (res.status === 503 && attempt < 100) {
              refusals++;
              await sleep(100);
              continue;
            }
            reasons.push(`append ${l}:${n}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: p.lanes }, (_, l) => lane(l)));
      const appendSeconds = (performance.now() - t0) / 1000;
      if (ctx.signal.aborted) reasons.push("aborted");
      ctx.log(`  appended ${round(appended / MiB, 1)} MiB (${records} records, ${acks.length} batches) in ${round(appendSeconds, 1)}s; ${refusals} retryable refusals`);

      // The acks tile [0, records), and the tail agrees.
      acks.sort((a, b) => a.start - b.start);
      let next = 0;
      for (const a of acks) {
        if (a.start !== next) {
          reasons.push(`acks leave a gap or overlap at seq ${next} (next ack starts at ${a.start})`);
          break;
        }
        next = a.end;
      }
      const tail = await ctx.client.tail(basin, stream);
      if (tail.seq_num !== records) reasons.push(`check-tail says ${tail.seq_num} records, ${records} were acknowledged`);

      // Sealing catches up (the tail comes down under SEAL_TAIL_BYTES), still sampled.
      const settleStart = performance.now();
      let stats = await inspector.stream(basin, stream);
      while (stats && stats.tailBytes > SEAL_TAIL_BYTES && performance.now() - settleStart < 120_000 && !ctx.signal.aborted) {
        await sleep(250);
        stats = await inspector.stream(basin, stream);
      }
      await sample();
      const finalBytes = file ? sqliteBytes(file) : undefined;
      if (!file) reasons.push("the stream's SQLite file was never found under the persist dir");

      // Read the whole stream back: `readers` contiguous ranges in parallel, unary reads of ≤ 1000 records / 1 MiB.
      const readMs = [];
      let readRecords = 0;
      let readBytes = 0;
      const ackOf = (seq) => {
        let lo = 0;
        let hi = acks.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (acks[mid].end <= seq) lo = mid + 1;
          else if (acks[mid].start > seq) hi = mid - 1;
          else return acks[mid];
        }
        return undefined;
      };
      const readRange = async (from, to) => {
        let at = from;
        while (at < to && reasons.length < 5 && !ctx.signal.aborted) {
          const sent = performance.now();
          const res = await request(baseUrl, "GET", `${path}?seq_num=${at}&count=${Math.min(1000, to - at)}`, { headers, agent, timeoutMs: 60_000 });
          readMs.push(performance.now() - sent);
          if (res.status !== 200) {
            reasons.push(`read at ${at}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
            return;
          }
          const got = JSON.parse(res.text).records ?? [];
          if (got.length === 0) {
            reasons.push(`read at ${at}: no records before ${to}`);
            return;
          }
          for (const r of got) {
            if (r.seq_num !== at) {
              reasons.push(`read seq ${r.seq_num} where ${at} was expected`);
              return;
            }
            const ack = ackOf(at);
            const want = ack && recordFor(ack.lane, ack.n, at - ack.start, p);
            const header = r.headers?.[0];
            if (!want || r.body !== want.body || r.headers?.length !== 1 || header[0] !== "id" || header[1] !== want.id) {
              reasons.push(`seq ${at}: record differs from what was appended (${want?.id ?? "no ack"})`);
              return;
            }
            readBytes += r.body.length;
            readRecords++;
            at++;
          }
        }
      };
      const r0 = performance.now();
      const step = Math.ceil(records / p.readers);
      await Promise.all(Array.from({ length: p.readers }, (_, i) => readRange(i * step, Math.min(records, (i + 1) * step))));
      const readSeconds = (performance.now() - r0) / 1000;
      if (reasons.length === 0 && readRecords !== records) reasons.push(`read back ${readRecords} of ${records} records`);
      ctx.log(`  read back ${readRecords} records (${round(readBytes / MiB, 1)} MiB) in ${round(readSeconds, 1)}s, every byte checked`);

      // The bound.
      const bound = TAIL_BYTES_MAX + p.slackMiB * MiB;
      if (appended < target) reasons.push(`only ${round(appended / MiB, 1)} MiB appended of ${p.totalMiB} MiB`);
      if (peak > bound) reasons.push(`the stream's SQLite reached ${round(peak / MiB, 1)} MiB, over the ${round(bound / MiB)} MiB bound`);
      ctx.log(`  SQLite of the stream's object: peak ${round(peak / MiB, 2)} MiB (at ${round(peakAt / MiB)} MiB appended), final ${round((finalBytes ?? 0) / MiB, 2)} MiB; bound ${round(bound / MiB)} MiB; ${stats?.segments ?? "?"} segments hold ${round((stats?.sealedBytes ?? 0) / MiB, 1)} MiB`);

      const storage = {
        appendedBytes: appended,
        sqlitePeakBytes: peak,
        sqlitePeakAtAppendedBytes: peakAt,
        sqliteFinalBytes: finalBytes,
        sqliteBoundBytes: bound,
        sqlitePeakOverSealTailBytes: round(peak / SEAL_TAIL_BYTES, 2),
        segments: stats?.segments,
        sealedBytes: stats?.sealedBytes,
        tailRows: stats?.tailRows,
        tailBytes: stats?.tailBytes,
        sealSettleSeconds: round((performance.now() - settleStart) / 1000, 1),
        retryableRefusals: refusals,
      };
      const valid = reasons.length === 0;
      return {
        valid,
        reasons,
        rows: [
          {
            label: `append ${p.totalMiB} MiB to one stream (${p.lanes} in flight)`,
            valid, reason: reasons[0], records, seconds: round(appendSeconds),
            recordsPerSec: round(records / appendSeconds, 1), mibPerSec: round(appended / MiB / appendSeconds, 2),
            latencyKind: "ack", latency: summarize(ackMs),
            extra: { batches: acks.length, ...storage },
          },
          {
            label: `read all ${p.totalMiB} MiB back, verified (${p.readers} readers)`,
            valid, reason: reasons[0], records: readRecords, seconds: round(readSeconds),
            recordsPerSec: round(readRecords / readSeconds, 1), mibPerSec: round(readBytes / MiB / readSeconds, 2),
            latencyKind: "request", latency: summarize(readMs),
            extra: { requests: readMs.length },
          },
        ],
        figures: storage,
      };
    } finally {
      sampling = false;
      await sampler;
      agent.destroy();
    }
  },
};
