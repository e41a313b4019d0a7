// The servers a workload runs against, behind one interface, so every scenario drives each of them with the
// same client code and the same checks:
//
//   ours-s2     our server through the S2 v1 API (JSON, s2-format raw; a batch is one append of N records)
//   ours-ds     our server through Durable Streams (/v1/stream/{name}; a batch is one POST of N records' bytes)
//   ref-memory  @durable-streams/server, in-memory, through Durable Streams (same client as ours-ds)
//   ref-file    @durable-streams/server, file-backed (log files + LMDB, fdatasync per append), same client
//
// A target: { name, protocol, ours, group: { pid } (its server's process group), newStream(prefix),
// append(stream, bodies, { agent, timeoutMs }) → { ack, sentAt, doneAt } where ack = { key, count, … },
// compareKeys(a, b) (stream order of acks), tailPosition(stream), reader(mode, { stream, agent, tracker, from }),
// verifyAppends({ stream, acks, expectBody, recordBytes, readBack }) → problems, catchUp(stream, {...}),
// storage(stream) → stored rows and segments (ours only) }.
import { performance } from "node:perf_hooks";
import { DsClient, DsLongPollReader, DsSseReader, RecordTracker, compareOffsets } from "./ds-client.mjs";
import { S2LongPollReader } from "./s2-readers.mjs";
import { FollowReader } from "./sse.mjs";
import { ackRange } from "./stats.mjs";
import { processGroupStats } from "./server.mjs";
import { verifyAppends as verifyS2Appends } from "./verify.mjs";

export const TARGET_NAMES = ["ours-s2", "ours-ds", "ref-memory", "ref-file"];

/** The DS basin our server keeps Durable Streams streams in (wrangler.toml DS_BASIN). */
const DS_BASIN = "durable-streams";

/** Acks sorted into stream order, with the index of each one's first record. */
function streamOrder(acks, compare) {
  const sorted = [...acks].sort((a, b) => compare(a.key, b.key));
  const firstRecord = [];
  let n = 0;
  for (const a of sorted) {
    firstRecord.push(n);
    n += a.count;
  }
  const locate = (k) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (firstRecord[mid] <= k) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return { sorted, firstRecord, total: n, locate };
}

/** expectRecord(k) over acks in stream order: the body sent as the k-th record of the stream. */
function expectedRecords(order, expectBody) {
  return (k) => {
    if (k < 0 || k >= order.total) return undefined;
    const b = order.locate(k);
    return expectBody(order.sorted[b], k - order.firstRecord[b]);
  };
}

function oursStorage(inspector, basin) {
  return async (stream) => (inspector ? inspector.stream(basin, stream) : undefined);
}

export function oursS2Target({ server, client, basin, inspector, newName }) {
  return {
    name: "ours-s2",
    protocol: "s2",
    ours: true,
    group: { pid: server.pid },
    alive: () => server.alive(),
    basin,
    client,
    async newStream(prefix) {
      const name = newName(prefix);
      await client.createStream(basin, name);
      return name;
    },
    async append(stream, bodies, { agent, timeoutMs } = {}) {
      const r = await client.append(basin, stream, bodies, { agent, timeoutMs });
      const ack = ackRange(r.ack, bodies.length);
      return { ack: { ...ack, key: ack.start }, sentAt: r.sentAt, doneAt: r.doneAt };
    },
    compareKeys: (a, b) => a - b,
    async tailPosition(stream) {
      return (await client.tail(basin, stream)).seq_num;
    },
    reader(mode, { stream, agent, tracker, from }) {
      if (mode === "sse") {
        return new FollowReader({ baseUrl: client.baseUrl, token: client.token, basin, stream, agent, expected: tracker.expected, fromSeq: from, tracker });
      }
      return new S2LongPollReader({ client, basin, stream, agent, tracker, fromSeq: from });
    },
    async verifyAppends({ stream, acks, expectBody, readBack }) {
      return verifyS2Appends({ client, basin, stream, acks, expectBody, readBack });
    },
    /**
     * Unary reads (≤ 1000 records / 1 MiB each) of `records` records from seq num `from`, each checked against
     * expectRecord(k) (k counted from `from`). Resolves { bytes, records, requests, requestMs }; throws on a
     * mismatch.
     */
    async catchUp(stream, { from = 0, records, expectRecord }) {
      let next = from;
      let requests = 0;
      let bytes = 0;
      const requestMs = [];
      const end = from + records;
      while (next < end) {
        const t0 = performance.now();
        const res = await client.read(basin, stream, next, Math.min(1000, end - next));
        requestMs.push(performance.now() - t0);
        requests += 1;
        const got = res.records ?? [];
        if (got.length === 0) throw new Error(`read at seq ${next} returned no records (wanted up to ${end})`);
        for (const r of got) {
          if (r.seq_num !== next) throw new Error(`read seq ${r.seq_num} where ${next} was expected`);
          const body = r.body ?? "";
          const want = expectRecord(next - from);
          if (body !== want) throw new Error(`seq ${next}: body differs from what was sent (got ${JSON.stringify(body.slice(0, 32))}…, want ${JSON.stringify(String(want).slice(0, 32))}…)`);
          bytes += body.length;
          next += 1;
          if (next >= end) break;
        }
      }
      return { bytes, records: next - from, requests, requestMs };
    },
    /** The read position of the k-th record after `acksInOrder` (S2: its seq num). */
    positionAfter(orderedAcks, b) {
      return b === 0 ? 0 : orderedAcks[b - 1].end;
    },
    storage: oursStorage(inspector, basin),
  };
}

/** A Durable Streams target: ours (our server's /v1/stream routes, with the root token) or a reference server. */
export function dsTarget({ name, baseUrl, token, group, alive, ours = false, inspector, newName }) {
  const client = new DsClient(baseUrl, { token });
  return {
    name,
    protocol: "ds",
    ours,
    group,
    alive,
    client,
    async newStream(prefix) {
      const stream = newName(prefix);
      await client.create(stream);
      return stream;
    },
    async append(stream, bodies, { agent, timeoutMs } = {}) {
      const body = bodies.length === 1 ? bodies[0] : bodies.join("");
      const r = await client.append(stream, body, { agent, timeoutMs });
      return { ack: { key: r.nextOffset, count: bodies.length }, sentAt: r.sentAt, doneAt: r.doneAt };
    },
    compareKeys: compareOffsets,
    async tailPosition(stream) {
      return (await client.head(stream)).nextOffset;
    },
    reader(mode, { stream, agent, tracker, from }) {
      const Reader = mode === "sse" ? DsSseReader : DsLongPollReader;
      return new Reader({ client, stream, agent, tracker, fromOffset: from });
    },
    /**
     * Acks (Stream-Next-Offset of each POST) must be distinct; in offset order they are the stream order, the
     * last one is the tail (HEAD), and what catch-up reads return is byte for byte the bodies in that order:
     * all of it, or the first and last `readBack` records (read from the offset of the batch boundary before).
     */
    async verifyAppends({ stream, acks, expectBody, recordBytes, readBack = 1000 }) {
      const problems = [];
      const order = streamOrder(acks, compareOffsets);
      for (let i = 1; i < order.sorted.length; i++) {
        if (order.sorted[i].key === order.sorted[i - 1].key) {
          problems.push(`two appends acknowledged with the same Stream-Next-Offset ${order.sorted[i].key}`);
          return problems;
        }
      }
      const { nextOffset } = await client.head(stream);
      const last = order.sorted[order.sorted.length - 1]?.key;
      if (last !== undefined && nextOffset !== last) problems.push(`HEAD says the tail is ${nextOffset}, the last ack said ${last}`);
      const expectRecord = expectedRecords(order, expectBody);
      const ranges = [];
      if (readBack === "all" || 2 * readBack >= order.total) ranges.push({ batch: 0 });
      else {
        ranges.push({ batch: 0, records: readBack });
        ranges.push({ batch: order.locate(order.total - readBack) });
      }
      for (const r of ranges) {
        const fromRecord = order.firstRecord[r.batch] ?? 0;
        const records = r.records ?? order.total - fromRecord;
        const tracker = new RecordTracker({ expected: records, recordBytes, expectRecord: (k) => expectRecord(fromRecord + k) });
        const offset = r.batch === 0 ? "-1" : order.sorted[r.batch - 1].key;
        let problem;
        const read = await client.readFollow(stream, offset, {
          maxBytes: records * recordBytes,
          onChunk: (buf) => {
            if (problem) return;
            // A read may run past the range asked for (it ends on a batch boundary): check only the range.
            const room = (records - tracker.count) * recordBytes - tracker.partialBytes;
            problem = tracker.push(buf.length > room ? buf.subarray(0, room) : buf, 0);
          },
        });
        if (problem) problems.push(`read back from ${offset}: ${problem}`);
        else if (tracker.count !== records) problems.push(`read back ${tracker.count} of ${records} records from ${offset}`);
        if (!r.records && read.nextOffset !== last) problems.push(`catch-up to the end stopped at ${read.nextOffset}, the last ack said ${last}`);
        if (problems.length > 0) break;
      }
      return problems;
    },
    /**
     * Catch-up GETs from `from` (an offset; "-1" = the start) following Stream-Next-Offset until `records`
     * fixed-size records were read, each checked against expectRecord(k). Resolves { bytes, records, requests,
     * requestMs }; throws on a mismatch.
     */
    async catchUp(stream, { from = "-1", records, recordBytes, expectRecord, agent }) {
      let problem;
      const requestMs = [];
      const tracker = new RecordTracker({ expected: records, recordBytes, expectRecord });
      const read = await client.readFollow(stream, from, {
        maxBytes: records * recordBytes, agent,
        onRequest: (ms) => requestMs.push(ms),
        onChunk: (buf) => {
          if (problem) return;
          const room = (records - tracker.count) * recordBytes - tracker.partialBytes;
          problem = tracker.push(buf.length > room ? buf.subarray(0, room) : buf, 0);
        },
      });
      if (problem) throw new Error(problem);
      if (tracker.count !== records) throw new Error(`catch-up from ${from} got ${tracker.count} of ${records} records`);
      return { bytes: read.bytes, records: tracker.count, requests: read.requests, requestMs };
    },
    positionAfter(orderedAcks, b) {
      return b === 0 ? "-1" : orderedAcks[b - 1].key;
    },
    storage: ours ? oursStorage(inspector, DS_BASIN) : async () => undefined,
  };
}

/** Acks in stream order for a target (see streamOrder). */
export function orderAcks(target, acks) {
  return streamOrder(acks, target.compareKeys);
}
export { expectedRecords };

/**
 * Server-side cost of a stretch of work on one target: CPU seconds of its process group and the group's peak
 * RSS (sampled every `everyMs`). meter(target).stop() → { cpuSeconds, cpuUtilization, peakRssBytes, cpuSecondsByRole }.
 */
export function meter(target, everyMs = 250) {
  const { pid } = target.group;
  const s0 = processGroupStats(pid);
  let peak = s0?.rssBytes ?? 0;
  const timer = setInterval(() => {
    const s = processGroupStats(pid);
    if (s) peak = Math.max(peak, s.rssBytes);
  }, everyMs);
  timer.unref();
  const t0 = performance.now();
  let stopped = false;
  let result;
  return {
    /** Idempotent: the first call's figures. */
    stop() {
      if (stopped) return result;
      stopped = true;
      clearInterval(timer);
      const s1 = processGroupStats(pid);
      if (!s0 || !s1) return undefined;
      peak = Math.max(peak, s1.rssBytes);
      // Per process, so a process that appeared meanwhile counts from 0.
      const before = new Map(s0.processes.map((p) => [p.pid, p.cpuSec]));
      let cpu = 0;
      const byRole = {};
      for (const p of s1.processes) {
        const d = p.cpuSec - (before.get(p.pid) ?? 0);
        cpu += d;
        byRole[p.role] = Number(((byRole[p.role] ?? 0) + d).toFixed(2));
      }
      const wall = (performance.now() - t0) / 1000;
      result = { cpuSeconds: Number(cpu.toFixed(2)), cpuUtilization: Number((cpu / wall).toFixed(3)), peakRssBytes: peak, cpuSecondsByRole: byRole };
      return result;
    },
  };
}
