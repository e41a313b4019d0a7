// Tiered storage, reads (issue: "reads see one stream"): once a stream's older rows are sealed into R2 segments,
// every read kind — unary JSON and protobuf, SSE (with resumption), S2S sessions, Durable Streams catch-up,
// long-poll and SSE — by seq num, timestamp or tail offset, with any limits, returns exactly what the stream
// holds, as a model of it says, including reads that start in R2 and run into the tail while a seal moves the
// rows they are about to read. The objects in R2 decode with the documented codec and hold exactly the sealed
// prefix. Timestamp starts find their segment and block from the index: one ranged get, not a scan.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { meteredBytes } from "../../src/domain/metering";
import { SEGMENT_BLOCKS_MAX, SegmentIndex } from "../../src/storage/segment-index";
import { R2SegmentStore, segmentPrefix } from "../../src/storage/segment-store";
import { StreamStore } from "../../src/storage/stream-store";
import { sealPolicy } from "../../src/stream/seal-policy";
import { Sealer } from "../../src/stream/sealer";
import { sseEvents } from "../history/wire";
import { DS_BASIN, ds } from "./ds-helpers";
import { appendOk, call, createBasin, createStream, env, expectStatus, streamObject, tailOf, uniqueBasin, uniqueStream } from "./helpers";
import {
  appendRaw, appendTo, decodeR2Segments, expectedRead, gate, hookBucket, prefixOf, query, r2Keys, randomBytes, readS2s, readSse,
  readUnaryJson, readUnaryProto, rng, segmentsOf, settle, sleep, tailRowsOf, unaryCaps, utf8, view, type Limits, type NewRec, type Rec,
} from "./tiered-support";

const basin = uniqueBasin("tiered-reads");
const stream = uniqueStream("eq");
const model: Rec[] = [];
const BASE_TS = 1_700_000_000_000;

/** Records of every shape: empty and large bodies, binary headers, duplicate timestamps, one oversized row. */
function batchFor(random: () => number, b: number, firstSeq: number): NewRec[] {
  const count = b === 7 ? 1 : 1 + Math.floor(random() * 4);
  return Array.from({ length: count }, (_, j) => {
    const seq = firstSeq + j;
    const sizes = [0, 1, 17, 300, 900, 1500];
    const size = b === 7 ? 3_000 : sizes[Math.floor(random() * sizes.length)]!;
    const headers = Array.from({ length: Math.floor(random() * 3) }, () =>
      [randomBytes(random, 1 + Math.floor(random() * 5)), randomBytes(random, Math.floor(random() * 20))] as [Uint8Array, Uint8Array]);
    // Three records per timestamp, so timestamp starts land inside batches and segments.
    return { timestamp: BASE_TS + Math.floor(seq / 3) * 10, headers, body: randomBytes(random, size) };
  });
}

beforeAll(async () => {
  await createBasin(basin);
  await createStream(basin, stream);
  const random = rng(20261126);
  for (let b = 0; b < 24; b++) await appendTo(model, basin, stream, batchFor(random, b, model.length));
  await settle(basin, stream);
}, 60_000);

describe("sealed segments in R2", () => {
  it("hold the oldest records, contiguous with the tail rows, each object checked and decoded by the codec", async () => {
    const segments = await segmentsOf(basin, stream);
    const tail = await tailRowsOf(basin, stream);
    expect(segments.length).toBeGreaterThanOrEqual(5);
    expect(tail.length).toBeGreaterThanOrEqual(1);
    // Contiguous, no gap or overlap: segments from 0, then the tail rows up to the stream's tail.
    let next = 0;
    for (const s of segments) {
      expect(s.start).toBe(next);
      next = s.end;
    }
    for (const row of tail) {
      expect(row.start).toBe(next);
      next = row.end;
    }
    expect(next).toBe(model.length);
    // No row ever exceeds the 2 MB platform limit (here: the segment target is 2048, one row is 3000+).
    expect(Math.max(...tail.map((r) => r.bytes))).toBeLessThan(2_000_000);

    // R2 holds exactly the indexed objects (no orphan), and they decode to exactly the sealed records.
    const prefix = prefixOf(basin, stream);
    expect(await r2Keys(prefix)).toEqual(segments.map((s) => s.key).sort());
    const decoded = await decodeR2Segments(prefix);
    const sealed = decoded.sort((a, b) => a.records[0]!.seqNum - b.records[0]!.seqNum).flatMap((d) => d.records);
    expect(view(sealed)).toEqual(view(model.slice(0, segments[segments.length - 1]!.end)));
    // The index's sizes are the objects' sizes.
    for (const s of segments) expect((await env.SEGMENTS.head(s.key))?.size).toBe(s.size);
  });
});

describe("unary reads equal the model", () => {
  it("from every seq num, JSON and protobuf; at the tail 416", async () => {
    for (let s = 0; s < model.length; s++) {
      const expected = view(expectedRead(model, { seqNum: s }, unaryCaps({})));
      const json = await readUnaryJson(basin, stream, query({ seqNum: s }));
      expect(json.status).toBe(200);
      expect(view(json.records), `seq_num=${s}`).toEqual(expected);
      if (s % 4 === 0) expect(view(await readUnaryProto(basin, stream, query({ seqNum: s }))), `proto seq_num=${s}`).toEqual(expected);
    }
    const atTail = await readUnaryJson(basin, stream, query({ seqNum: model.length }));
    expect(atTail.status).toBe(416);
  });

  it("with count, bytes and until limits that end on and between every record", async () => {
    const random = rng(5);
    for (let s = 0; s < model.length; s++) {
      const cases: Limits[] = [
        { count: 1 }, { count: 1 + Math.floor(random() * 7) },
        { bytes: 8 + Math.floor(random() * 4000) },
        { until: model[Math.min(model.length - 1, s + Math.floor(random() * 9))]!.timestamp + (random() < 0.5 ? 0 : 1) },
        { count: 3, bytes: 2500, until: BASE_TS + 10_000 },
      ];
      for (const limits of cases) {
        const got = await readUnaryJson(basin, stream, query({ seqNum: s }, limits));
        expect(got.status).toBe(200);
        expect(view(got.records), `seq_num=${s} ${JSON.stringify(limits)}`).toEqual(view(expectedRead(model, { seqNum: s }, unaryCaps(limits))));
      }
    }
  });

  it("by timestamp: every stored timestamp and the values around it; beyond the tail 416", async () => {
    const stamps = [...new Set(model.map((r) => r.timestamp))];
    for (const t of [BASE_TS - 5, ...stamps.flatMap((t) => [t - 1, t, t + 1])]) {
      if (t > model[model.length - 1]!.timestamp) continue;
      const got = await readUnaryJson(basin, stream, query({ timestamp: t }));
      expect(got.status, `timestamp=${t}`).toBe(200);
      expect(view(got.records), `timestamp=${t}`).toEqual(view(expectedRead(model, { timestamp: t }, unaryCaps({}))));
      const limited = await readUnaryJson(basin, stream, query({ timestamp: t }, { count: 2, until: t + 25 }));
      expect(view(limited.records), `timestamp=${t} count=2 until`).toEqual(view(expectedRead(model, { timestamp: t }, { count: 2, until: t + 25 })));
    }
    const beyond = await readUnaryJson(basin, stream, query({ timestamp: model[model.length - 1]!.timestamp + 1 }));
    expect(beyond.status).toBe(416);
  });

  it("by tail offset, from 0 (416) to beyond the start (saturates at 0)", async () => {
    for (let k = 0; k <= model.length + 2; k++) {
      const got = await readUnaryJson(basin, stream, query({ tailOffset: k }));
      if (k === 0) {
        expect(got.status).toBe(416);
        continue;
      }
      expect(view(got.records), `tail_offset=${k}`).toEqual(view(expectedRead(model, { tailOffset: k }, unaryCaps({}))));
    }
  });

  it("a timestamp start costs one ranged get for the lookup, not a scan of the segments", async () => {
    const segments = await segmentsOf(basin, stream);
    // A timestamp inside the last sealed segment: a scan would fetch every segment before it.
    const last = segments[segments.length - 1]!;
    const target = model[last.end - 1]!;
    const gets: string[] = [];
    const restore = hookBucket("get", (original, ...args) => {
      gets.push(String(args[0]));
      return original(...args);
    });
    try {
      const got = await readUnaryJson(basin, stream, query({ timestamp: target.timestamp }, { count: 1 }));
      expect(view(got.records)).toEqual(view(expectedRead(model, { timestamp: target.timestamp }, { count: 1 })));
    } finally {
      restore();
    }
    // One get to find the record, one to read it (both of the last segment's blocks).
    expect(gets.length).toBeLessThanOrEqual(2);
    expect(new Set(gets)).toEqual(new Set([last.key]));
  });
});

describe("sessions equal the model", () => {
  it("SSE from sealed, boundary and tail positions, with count and bytes budgets spanning batches", async () => {
    const starts = [0, 1, Math.floor(model.length / 2), model.length - 2];
    for (const s of starts) {
      for (const limits of [{ count: model.length }, { bytes: 9_000 }, { count: 5 }] as Limits[]) {
        const got = await readSse(basin, stream, query({ seqNum: s }, limits));
        expect(got.done, `SSE seq_num=${s} ${JSON.stringify(limits)} ${got.errors.join()}`).toBe(true);
        expect(view(got.records), `SSE seq_num=${s} ${JSON.stringify(limits)}`).toEqual(view(expectedRead(model, { seqNum: s }, limits)));
      }
    }
  });

  it("SSE resumed with Last-Event-ID continues exactly after the last record it acknowledged, budgets reduced", async () => {
    const first = await readSse(basin, stream, query({ seqNum: 0 }, { count: model.length }));
    expect(first.done).toBe(true);
    // The session's last id names the last record and what was sent (seq,count,bytes).
    const totalBytes = model.reduce((n, r) => n + meteredBytes(r), 0);
    expect(first.ids[first.ids.length - 1]).toBe(`${model.length - 1},${model.length},${totalBytes}`);
    // Resume from every segment boundary and some positions inside segments, as a client whose connection
    // dropped there would (the id of its last batch).
    const boundaries = (await segmentsOf(basin, stream)).map((s) => s.end);
    for (const k of [...boundaries, 1, 2, 5, model.length - 1]) {
      const sentBytes = model.slice(0, k).reduce((n, r) => n + meteredBytes(r), 0);
      const limits = { count: model.length - 2, bytes: totalBytes - 100 };
      const resumed = await readSse(basin, stream, query({ seqNum: 0 }, limits), undefined, { "last-event-id": `${k - 1},${k},${sentBytes}` });
      expect(resumed.done).toBe(true);
      const rest = { count: limits.count - k, bytes: limits.bytes - sentBytes };
      expect(view(resumed.records), `resumed after ${k - 1}`).toEqual(view(expectedRead(model, { seqNum: k }, rest)));
    }
  });

  it("S2S read sessions from every kind of start, with limits", async () => {
    for (const s of [0, 3, Math.floor(model.length / 2), model.length - 1]) {
      for (const limits of [{ count: model.length }, { count: 2 }, { bytes: 5_000 }] as Limits[]) {
        const got = await readS2s(basin, stream, query({ seqNum: s }, limits));
        expect(got.terminal).toBeUndefined();
        expect(view(got.records), `S2S seq_num=${s} ${JSON.stringify(limits)}`).toEqual(view(expectedRead(model, { seqNum: s }, limits)));
      }
    }
    const t = model[5]!.timestamp;
    const byTime = await readS2s(basin, stream, query({ timestamp: t }, { count: 7 }));
    expect(view(byTime.records)).toEqual(view(expectedRead(model, { timestamp: t }, { count: 7 })));
  });
});

describe("reads racing a seal", () => {
  it("a unary read waiting on R2 while the tail it runs into is sealed sees no gap and no duplicate", async () => {
    const name = uniqueStream("race");
    await createStream(basin, name);
    const local: Rec[] = [];
    const random = rng(99);
    for (let b = 0; b < 10; b++) await appendTo(local, basin, name, batchFor(random, b + 100, local.length));
    await settle(basin, name);
    const before = await segmentsOf(basin, name);
    expect(before.length).toBeGreaterThan(0);

    // The reads' ranged gets wait; meanwhile new rows arrive and the tail is sealed.
    const held = gate();
    let waiting = 0;
    const restore = hookBucket("get", async (original, ...args) => {
      waiting++;
      await held.promise;
      return original(...args);
    });
    try {
      const reading = readUnaryJson(basin, name, query({ seqNum: 0 }));
      const readingSse = readSse(basin, name, query({ seqNum: 0 }, { count: 1000 }));
      for (let i = 0; i < 100 && waiting < 2; i++) await sleep(10);
      expect(waiting).toBe(2);
      for (let b = 0; b < 6; b++) await appendTo(local, basin, name, batchFor(random, b + 200, local.length));
      await runDurableObjectAlarm(streamObject(basin, name));
      await settle(basin, name);
      const after = await segmentsOf(basin, name);
      expect(after.length).toBeGreaterThan(before.length);
      held.open();
      const got = await reading;
      expect(got.status).toBe(200);
      expect(got.records.length).toBe(local.length);
      // The read ends where the stream ended when it finished: everything, in order, once.
      expect(view(got.records)).toEqual(view(expectedRead(local, { seqNum: 0 }, unaryCaps({}))));
      const sse = await readingSse;
      expect(sse.done).toBe(true);
      expect(view(sse.records), "SSE").toEqual(view(local));
    } finally {
      held.open();
      restore();
    }
  });

  it("an SSE session following the stream across seals gets every record once, catch-up and live", async () => {
    const name = uniqueStream("follow");
    await createStream(basin, name);
    const local: Rec[] = [];
    const random = rng(1234);
    for (let b = 0; b < 8; b++) await appendTo(local, basin, name, batchFor(random, b + 300, local.length));
    await settle(basin, name);
    const total = local.length + 30;
    const following = readSse(basin, name, query({ seqNum: 0 }), total);
    const followingS2s = readS2s(basin, name, query({ seqNum: 0 }), total);
    // Live appends, one record each, so the alarm seals again and again while the sessions follow.
    while (local.length < total) {
      await appendTo(local, basin, name, [{ body: utf8(`live ${local.length}`), timestamp: BASE_TS + 100_000 }]);
      if (local.length % 7 === 0) await runDurableObjectAlarm(streamObject(basin, name));
    }
    expect(view((await following).records)).toEqual(view(local));
    expect(view((await followingS2s).records)).toEqual(view(local));
    expect((await segmentsOf(basin, name)).length).toBeGreaterThan(3);
  });
});

describe("Durable Streams reads of the same sealed stream", () => {
  const name = uniqueStream("ds-tiered");
  const messages: unknown[] = [];
  /** [start, end) of each Durable Streams append (one batch, one row). */
  const dsBatches: [number, number][] = [];

  beforeAll(async () => {
    const created = await ds(name, { method: "PUT", headers: { "content-type": "application/json" } });
    expect(created.status, await created.text()).toBe(201);
    // Appends through both protocols: Durable Streams JSON arrays (one record per message) and S2 records.
    for (let i = 0; i < 12; i++) {
      const batch = Array.from({ length: 1 + (i % 3) }, (_, j) => ({ i, j, pad: "x".repeat((i * 97 + j * 31) % 700) }));
      expect((await ds(name, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(batch) })).status).toBe(204);
      dsBatches.push([messages.length, messages.length + batch.length]);
      messages.push(...batch);
      if (i % 4 === 3) {
        const extra = { s2: i };
        await appendOk(DS_BASIN, name, [JSON.stringify(extra)]);
        messages.push(extra);
      }
    }
    await settle(DS_BASIN, name);
    expect((await segmentsOf(DS_BASIN, name)).length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  const offset = (n: number) => `${String(n).padStart(16, "0")}_${"0".repeat(16)}`;

  it("catch-up from every offset returns the same messages, following Stream-Next-Offset to the tail", async () => {
    for (let k = 0; k <= messages.length; k++) {
      const got: unknown[] = [];
      let at = offset(k);
      for (let calls = 0; calls < 50; calls++) {
        const res = await ds(name, { query: `offset=${at}` });
        expect(res.status).toBe(200);
        got.push(...(await res.json() as unknown[]));
        at = res.headers.get("stream-next-offset")!;
        if (res.headers.get("stream-up-to-date") === "true") break;
      }
      expect(got, `offset ${k}`).toEqual(messages.slice(k));
      expect(at).toBe(offset(messages.length));
    }
    // And the S2 view of the same stream: the same bodies, in order.
    const s2 = await readUnaryJson(DS_BASIN, name, query({ seqNum: 0 }));
    expect(s2.records.map((r) => JSON.parse(new TextDecoder().decode(r.body)))).toEqual(messages);
    expect(await tailOf(DS_BASIN, name)).toMatchObject({ seq_num: messages.length });
  });

  it("a fork of the sealed stream copies its history from R2, also up to a point inside a sealed append", async () => {
    const json = { "content-type": "application/json" };
    const whole = uniqueStream("ds-fork");
    const created = await ds(whole, { method: "PUT", headers: { ...json, "stream-forked-from": `/v1/stream/${name}` } });
    expect(created.status, await created.text()).toBe(201);
    expect(await (await ds(whole)).json()).toEqual(messages);

    // A point one message into a multi-message append that now lives in a sealed segment.
    const segments = await segmentsOf(DS_BASIN, name);
    const sealedEnd = segments[segments.length - 1]!.end;
    const [start] = dsBatches.find(([a, b]) => b - a >= 2 && b <= sealedEnd)!;
    const partial = uniqueStream("ds-fork-part");
    const forked = await ds(partial, {
      method: "PUT", headers: { ...json, "stream-forked-from": `/v1/stream/${name}`, "stream-fork-offset": offset(start), "stream-fork-sub-offset": "1" },
    });
    expect(forked.status, await forked.text()).toBe(201);
    expect(await (await ds(partial)).json()).toEqual(messages.slice(0, start + 1));
  });

  it("long-poll with data behind the offset answers at once with it; SSE replays the sealed history, then goes live", async () => {
    const poll = await ds(name, { query: `offset=${offset(1)}&live=long-poll` });
    expect(poll.status).toBe(200);
    const polled = await poll.json() as unknown[];
    expect(polled.length).toBeGreaterThan(0);
    expect(polled).toEqual(messages.slice(1, 1 + polled.length));

    const sse = await ds(name, { query: `offset=${offset(0)}&live=sse` });
    expect(sse.status).toBe(200);
    const got: unknown[] = [];
    const live = { live: true };
    let appended = false;
    for await (const event of sseEvents(sse.body!)) {
      if (event.event === "data") got.push(...(JSON.parse(event.data) as unknown[]));
      if (event.event === "control" && (JSON.parse(event.data) as { upToDate?: boolean }).upToDate && !appended) {
        // Caught up through the sealed history: one more message must arrive live.
        expect(got).toEqual(messages);
        expect((await ds(name, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([live]) })).status).toBe(204);
        appended = true;
      }
      if (got.length === messages.length + 1) break;
    }
    expect(got).toEqual([...messages, live]);
    messages.push(live);
  });

  it("Durable Streams appends alone arm sealing: a stream written only through Durable Streams is sealed", async () => {
    const only = uniqueStream("ds-only");
    expect((await ds(only, { method: "PUT", headers: { "content-type": "text/plain" } })).status).toBe(201);
    for (let i = 0; i < 12; i++) {
      expect((await ds(only, { method: "POST", headers: { "content-type": "text/plain" }, body: `${i}:${"y".repeat(600)}` })).status).toBe(204);
    }
    // No test-driven alarm: the appends themselves must have armed it.
    const deadline = Date.now() + 5_000;
    while ((await segmentsOf(DS_BASIN, only)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await segmentsOf(DS_BASIN, only)).length).toBeGreaterThan(0);
    const body = await (await ds(only)).text();
    expect(body).toBe(Array.from({ length: 12 }, (_, i) => `${i}:${"y".repeat(600)}`).join(""));
  });
});

describe("the largest records", () => {
  it("a record of the S2 maximum (1 MiB metered) is sealed and read back byte-identical; a byte more is refused", async () => {
    const name = uniqueStream("max");
    await createStream(basin, name);
    const local: Rec[] = [];
    const random = rng(77);
    const header: [Uint8Array, Uint8Array] = [utf8("k"), utf8("v")];
    // 8 + 2 per header + 2 header bytes + body = 1 MiB exactly.
    const body = randomBytes(random, 1024 * 1024 - 8 - 2 - 2);
    await appendTo(local, basin, name, [{ headers: [header], body, timestamp: BASE_TS }]);
    await appendTo(local, basin, name, [{ body: randomBytes(random, 1024 * 1024 - 8), timestamp: BASE_TS }]);
    await appendTo(local, basin, name, [{ body: utf8("small"), timestamp: BASE_TS }]);
    const tooBig = await appendRaw(basin, name, [{ body: new Uint8Array(1024 * 1024 - 7) }]);
    expect(tooBig.status).toBeGreaterThanOrEqual(400);
    expect(tooBig.status).toBeLessThan(500);
    await settle(basin, name);
    const segments = await segmentsOf(basin, name);
    expect(segments.length).toBeGreaterThanOrEqual(2);
    // Each row (and so each segment block) holds one 1 MiB record: under the 2 MB row limit.
    expect(Math.max(...segments.map((s) => s.size))).toBeLessThan(2_000_000 + 1024);
    for (let s = 0; s < local.length; s++) {
      expect(view((await readUnaryJson(basin, name, query({ seqNum: s }))).records)).toEqual(view(expectedRead(local, { seqNum: s }, unaryCaps({}))));
    }
    const decoded = (await decodeR2Segments(prefixOf(basin, name))).flatMap((d) => d.records).sort((a, b) => a.seqNum - b.seqNum);
    expect(view(decoded)).toEqual(view(local.slice(0, decoded.length)));
    expect(await expectStatus(await call(`/streams/${name}/records/tail`, { basin }), 200)).toMatchObject({ tail: { seq_num: 3 } });
  });
});

describe("what a read fetches", () => {
  it("records too large to share a batch: each sealed block is fetched once, none for a record the batch refuses", async () => {
    const name = uniqueStream("fetch-once");
    await createStream(basin, name);
    const local: Rec[] = [];
    const random = rng(78);
    // ~600 KiB each: a batch (1 MiB) holds one, so every batch ends before the next sealed block.
    for (let i = 0; i < 6; i++) {
      await appendTo(local, basin, name, [{ body: randomBytes(random, 600 * 1024), timestamp: BASE_TS + i }]);
      await settle(basin, name);
    }
    const segments = await segmentsOf(basin, name);
    const sealed = segments[segments.length - 1]!.end;
    expect(sealed).toBeGreaterThanOrEqual(4);
    const prefix = prefixOf(basin, name);
    let gets = 0;
    const restore = hookBucket("get", (original, ...args) => {
      if (String(args[0]).startsWith(prefix)) gets++;
      return original(...args);
    });
    try {
      const sse = await readSse(basin, name, query({ seqNum: 0 }, { count: local.length }));
      expect(view(sse.records)).toEqual(view(local));
    } finally {
      restore();
    }
    expect(gets).toBe(sealed);
  });
});

describe("rows stay under the 2 MB platform limit (local workerd would take up to ~8 MiB, so the code must refuse)", () => {
  it("a backlog of many tiny rows seals into segments whose index rows stay under 2 MB; a packed row over 2 MB is refused", async () => {
    // An object with no stream (so no alarm of its own), its tail filled directly with 20,000 one-record rows,
    // as a long R2 outage under a stream of tiny appends would leave it, then sealed with a large byte target.
    const result = await runInDurableObject(streamObject(basin, uniqueStream("rows")), async (_instance, state) => {
      const sql = state.storage.sql;
      const store = new StreamStore(sql);
      state.storage.transactionSync(() => {
        for (let i = 0; i < 20_000; i++) store.insertBatch([{ seqNum: i, timestamp: BASE_TS + i, headers: [], body: new Uint8Array([i & 0xff]) }], null);
      });
      const policy = sealPolicy({ SEGMENT_BYTES_TARGET: String(64 * 1024 * 1024) });
      const sealer = new Sealer(store, new SegmentIndex(sql), new R2SegmentStore(env.SEGMENTS), (fn) => state.storage.transactionSync(fn), policy);
      const prefix = segmentPrefix(state.id.toString());
      let sealed = 0;
      while (await sealer.sealOnce(prefix, Date.now())) sealed++;
      let refused = "";
      try {
        store.insertBatch([{ seqNum: 20_000, timestamp: BASE_TS, headers: [], body: new Uint8Array(2_000_001) }], null);
      } catch (error) {
        refused = String(error);
      }
      return {
        sealed, prefix, left: store.tailStats().rows,
        segments: sql.exec<{ records: number; json: number; row: number }>(
          `SELECT end_seq_num - start_seq_num AS records, length(blocks) AS json,
             length(blocks) + length(object_key) + 64 AS row FROM segments ORDER BY start_seq_num`,
        ).toArray(),
        tail: sql.exec<{ n: number }>("SELECT count(*) AS n FROM record_batches").one().n,
        refused,
      };
    });
    expect(result.left).toBe(0);
    expect(result.tail).toBe(0);
    expect(result.sealed).toBe(Math.ceil(20_000 / SEGMENT_BLOCKS_MAX));
    expect(result.segments.reduce((n, s) => n + s.records, 0)).toBe(20_000);
    for (const segment of result.segments) {
      expect(segment.records).toBeLessThanOrEqual(SEGMENT_BLOCKS_MAX);
      expect(segment.row).toBeLessThan(2_000_000);
    }
    expect(result.refused).toMatch(/RangeError.*row limit/);
    // Every one of those records is in R2, once, in order.
    const decoded = (await decodeR2Segments(result.prefix)).flatMap((d) => d.records).sort((a, b) => a.seqNum - b.seqNum);
    expect(decoded.map((r) => r.seqNum)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    expect(decoded.every((r) => r.body.length === 1 && r.body[0] === (r.seqNum & 0xff))).toBe(true);
  });
});

