// Tiered storage, faults (issue item 5; DESIGN.md §2 crash-safe order): a failure between each step of sealing —
// the R2 put fails; the put succeeds but the commit is lost (a hook throws after the put, or the transaction
// itself fails); a trim removes the rows while the put is in flight; the object is reset mid-seal — loses no
// acknowledged record and shows no gap or duplicate to any read, and the seal completes later, with the orphaned
// object swept. With R2 unavailable the stream keeps taking appends up to its tail bound (TAIL_BYTES_MAX, 4 MiB in
// this project), then refuses them with a retryable 503 without dropping anything, retries sealing with backoff
// rather than spinning, and catches up once R2 is back.
import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { StreamStore } from "../../src/storage/stream-store";
import { SegmentIndex } from "../../src/storage/segment-index";
import { R2SegmentStore, segmentPrefix, type SegmentStore } from "../../src/storage/segment-store";
import { sealPolicy } from "../../src/stream/seal-policy";
import { Sealer, type SealFaults } from "../../src/stream/sealer";
import type { StreamObject } from "../../src/stream/stream-object";
import { DS_BASIN, ds } from "./ds-helpers";
import { call, createStream, env, expectS2Error, recordsPath, streamObject, tailOf, uniqueStream } from "./helpers";
import {
  appendRaw, appendTo, BASE_TS, expectedRead, fileBasin, fill, filledStream, type FillShape, gate, hookBucket,
  type IndexedSegment, type NewRec, prefixOf, query, r2Keys, randomBytes, readSse, readUnaryJson, type Rec, rng,
  segmentsOf, settle, sleep, type TailRow, tailRowsOf, unaryCaps, utf8, view
} from "./tiered-support";

const basin = fileBasin("tiered-faults");
const POLICY = sealPolicy({ SEAL_TAIL_ROWS: "4", SEAL_TAIL_BYTES: "4096", SEGMENT_BYTES_TARGET: "2048" });
const SHAPE: FillShape = { recordsMax: 2, bodyBytes: [1, 701] };

/** Everything a reader can see equals the model: unary from every seq num, and one SSE session from 0. */
async function expectReadsEqual(b: string, s: string, model: readonly Rec[]): Promise<void> {
  for (let seq = 0; seq < model.length; seq++) {
    const got = await readUnaryJson(b, s, query({ seqNum: seq }));
    expect(view(got.records), `seq_num=${seq}`).toEqual(view(model.slice(seq)));
  }
  const sse = await readSse(b, s, query({ seqNum: 0 }, { count: model.length }));
  expect(view(sse.records), "SSE").toEqual(view(model));
}

/** What the object and R2 hold, to show a failed attempt changed nothing but (maybe) one orphan. */
async function snapshot(b: string, s: string): Promise<{ segments: IndexedSegment[]; tail: TailRow[]; keys: string[] }> {
  return { segments: await segmentsOf(b, s), tail: await tailRowsOf(b, s), keys: await r2Keys(prefixOf(b, s)) };
}

/** Index and tail rows tile [0, tail) exactly, and R2 holds exactly the indexed objects. */
async function expectConsistent(b: string, s: string, length: number): Promise<void> {
  const { segments, tail, keys } = await snapshot(b, s);
  let next = 0;
  for (const range of [...segments, ...tail]) {
    expect(range.start).toBe(next);
    next = range.end;
  }
  expect(next).toBe(length);
  expect(keys).toEqual(segments.map((seg) => seg.key).sort());
}

/**
 * One seal attempt by a Sealer built from the object's own pieces, as the object builds its own, with the
 * segment store and the transaction wrapped to inject a fault. Returns whether it committed, or its error.
 */
function sealWith(
  b: string, s: string,
  options: { store?: (r2: SegmentStore) => SegmentStore; faults?: SealFaults; failCommit?: boolean },
): Promise<{ committed?: boolean; error?: string }> {
  return runInDurableObject(streamObject(b, s), async (_instance, state) => {
    const sql = state.storage.sql;
    const r2 = new R2SegmentStore(env.SEGMENTS);
    const transact = <T>(fn: () => T): T => state.storage.transactionSync(() => {
      const result = fn();
      // Thrown inside the transaction, after its writes: they roll back, as if the commit were lost.
      if (options.failCommit) throw new Error("commit lost (test)");
      return result;
    });
    const sealer = new Sealer(new StreamStore(sql), new SegmentIndex(sql), options.store ? options.store(r2) : r2, transact, POLICY);
    try {
      return { committed: await sealer.sealOnce(segmentPrefix(state.id.toString()), Date.now(), options.faults) };
    } catch (error) {
      return { error: String(error) };
    }
  });
}

describe("the R2 seam", () => {
  it("the objects hold the very binding the tests see, so a hooked method is what their segment store calls", async () => {
    const stream = uniqueStream("seam");
    await createStream(basin, stream);
    const same = await runInDurableObject(streamObject(basin, stream), (instance) =>
      (instance as unknown as { env: { SEGMENTS: unknown } }).env.SEGMENTS === env.SEGMENTS);
    expect(same).toBe(true);
    let puts = 0;
    const restore = hookBucket("put", (original, ...args) => {
      puts++;
      return original(...args);
    });
    try {
      await fill([], basin, stream, 8, 1, SHAPE);
      await settle(basin, stream);
    } finally {
      restore();
    }
    expect(puts).toBeGreaterThan(0);
    expect(puts).toBe((await segmentsOf(basin, stream)).length);
  });
});

describe("a failure between each step of sealing", () => {
  /** A stream with sealed segments and 1–4 tail rows (no seal due), and its model. */
  async function sealedStream(prefix: string, seed: number): Promise<{ stream: string; model: Rec[] }> {
    const { stream, model } = await filledStream(basin, prefix, 10, seed, SHAPE);
    // Sealing may have taken every row: one small row more, which no threshold asks to seal.
    if ((await tailRowsOf(basin, stream)).length === 0) await appendTo(model, basin, stream, [{ body: utf8("tail"), timestamp: BASE_TS + model.length * 10 }]);
    expect((await tailRowsOf(basin, stream)).length).toBeGreaterThan(0);
    return { stream, model };
  }

  /** After a crash-like fault: a fresh instance sweeps the orphan, and new appends get sealed as usual. */
  async function recover(stream: string, model: Rec[], seed: number): Promise<void> {
    await evictDurableObject(streamObject(basin, stream));
    await runInDurableObject(streamObject(basin, stream), (instance: StreamObject) => instance.alarm());
    await fill(model, basin, stream, 8, seed, SHAPE);
    await settle(basin, stream);
    await expectConsistent(basin, stream, model.length);
    await expectReadsEqual(basin, stream, model);
  }

  it("the R2 put fails: nothing changes, reads are whole, a later seal succeeds", async () => {
    const { stream, model } = await sealedStream("put-fails", 2);
    const before = await snapshot(basin, stream);
    const result = await sealWith(basin, stream, {
      store: (r2) => ({ ...r2, getRange: r2.getRange.bind(r2), list: r2.list.bind(r2), delete: r2.delete.bind(r2), put: () => Promise.reject(new Error("R2 down (test)")) }),
    });
    expect(result.error).toContain("R2 down");
    expect(await snapshot(basin, stream)).toEqual(before);
    await expectReadsEqual(basin, stream, model);
    // The same rows seal on the next attempt.
    expect(await sealWith(basin, stream, {})).toEqual({ committed: true });
    await expectConsistent(basin, stream, model.length);
    await expectReadsEqual(basin, stream, model);
  });

  it("the put succeeds and the object crashes before the commit: rows stay, the orphan is swept, no duplicate", async () => {
    const { stream, model } = await sealedStream("after-put", 3);
    const before = await snapshot(basin, stream);
    const result = await sealWith(basin, stream, { faults: { afterPut: () => { throw new Error("crash after put (test)"); } } });
    expect(result.error).toContain("crash after put");
    const after = await snapshot(basin, stream);
    expect(after.segments).toEqual(before.segments);
    expect(after.tail).toEqual(before.tail);
    // One object in R2 that no index row references, and no reader sees its records twice.
    const orphans = after.keys.filter((k) => !before.keys.includes(k));
    expect(orphans).toHaveLength(1);
    await expectReadsEqual(basin, stream, model);
    await recover(stream, model, 30);
    expect(await r2Keys(prefixOf(basin, stream))).not.toContain(orphans[0]);
  });

  it("the commit transaction itself fails: it rolls back whole, the orphan is swept, the seal completes later", async () => {
    const { stream, model } = await sealedStream("commit-lost", 4);
    const before = await snapshot(basin, stream);
    const result = await sealWith(basin, stream, { failCommit: true });
    expect(result.error).toContain("commit lost");
    const after = await snapshot(basin, stream);
    // No half commit: neither an index row without its rows deleted, nor rows deleted without an index row.
    expect(after.segments).toEqual(before.segments);
    expect(after.tail).toEqual(before.tail);
    expect(after.keys.length).toBe(before.keys.length + 1);
    await expectReadsEqual(basin, stream, model);
    await recover(stream, model, 40);
  });

  it("a trim drops the rows while the put is in flight: the commit is refused and its object deleted at once", async () => {
    const { stream, model } = await sealedStream("trim-race", 5);
    const tailStart = (await tailRowsOf(basin, stream))[0]!.start;
    const before = await snapshot(basin, stream);
    const point = model.length; // everything before the trim record
    const trim = new Uint8Array(8);
    new DataView(trim.buffer).setBigUint64(0, BigInt(point));
    const result = await sealWith(basin, stream, {
      store: (r2) => ({
        getRange: r2.getRange.bind(r2), list: r2.list.bind(r2), delete: r2.delete.bind(r2),
        async put(key, bytes) {
          await r2.put(key, bytes);
          // While the seal waits on R2, a trim command lands on the same object and deletes the rows.
          const res = await appendRaw(basin, stream, [{ headers: [[new Uint8Array(0), utf8("trim")]], body: trim, timestamp: BASE_TS + point * 10 }]);
          expect(res.status).toBe(200);
        },
      }),
    });
    expect(result).toEqual({ committed: false });
    model.push({ seqNum: point, timestamp: BASE_TS + point * 10, headers: [[new Uint8Array(0), utf8("trim")]], body: trim });
    // Not indexed, and not left in R2 either.
    expect(await r2Keys(prefixOf(basin, stream))).toEqual(before.keys);
    expect((await segmentsOf(basin, stream)).every((s) => s.end <= tailStart)).toBe(true);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(model.slice(point)));
    expect((await tailOf(basin, stream)).seq_num).toBe(point + 1);
  });

  it("the object is reset mid-seal (put in flight): no record lost or repeated, the next instance finishes the job", async () => {
    const { stream, model } = await filledStream(basin, "reset", 4, 6, SHAPE);
    const held = gate();
    let puts = 0;
    const restore = hookBucket("put", async (original, ...args) => {
      puts++;
      await held.promise;
      return original(...args);
    });
    try {
      await fill(model, basin, stream, 6, 7, SHAPE);
      const sealing = runInDurableObject(streamObject(basin, stream), (instance: StreamObject) => instance.alarm());
      for (let i = 0; i < 200 && puts === 0; i++) await sleep(10);
      expect(puts).toBeGreaterThan(0);
      // Abruptly, as a crash or a deploy does: the alarm's seal never reaches its commit.
      await abortAllDurableObjects();
      await sealing.catch(() => undefined);
      held.open();
      await sleep(50);
    } finally {
      held.open();
      restore();
    }
    // The rows are all still readable (from the tail or the segments committed before).
    await expectReadsEqual(basin, stream, model);
    // The next alarm (a fresh instance sweeps first thing) seals them and removes any half-done put.
    await runInDurableObject(streamObject(basin, stream), (instance: StreamObject) => instance.alarm());
    await settle(basin, stream);
    await expectConsistent(basin, stream, model.length);
    await expectReadsEqual(basin, stream, model);
  });

  it("a put whose response is lost (written, then an error) is retried under a new key, and the first is swept", async () => {
    const { stream, model } = await filledStream(basin, "lost-response", 3, 8, SHAPE);
    let failed = 0;
    const restore = hookBucket("put", async (original, ...args) => {
      const written = await original(...args);
      if (failed++ === 0) throw new Error("connection reset after the write (test)");
      return written;
    });
    try {
      await fill(model, basin, stream, 6, 9, SHAPE);
      // The alarm fails once (its object is written but unindexed), then, backed off, succeeds.
      await vi.waitFor(async () => {
        await runInDurableObject(streamObject(basin, stream), (instance: StreamObject) => instance.alarm());
        expect((await tailRowsOf(basin, stream)).length).toBeLessThanOrEqual(4);
      }, { timeout: 10_000, interval: 250 });
    } finally {
      restore();
    }
    expect(failed).toBeGreaterThan(1);
    await settle(basin, stream);
    await expectConsistent(basin, stream, model.length);
    await expectReadsEqual(basin, stream, model);
  });
});

describe("R2 unavailable for a while", () => {
  it("appends go on up to the tail bound, then fail with a retryable 503; nothing is dropped; sealing backs off and catches up", { timeout: 60_000 }, async () => {
    const { stream, model } = await filledStream(basin, "r2-down", 6, 10, SHAPE);

    // Seal attempts of this stream's object (the Durable Streams stream below has its own).
    let attempts = 0;
    const prefix = prefixOf(basin, stream);
    const restore = hookBucket("put", (_original, ...args) => {
      if (String(args[0]).startsWith(prefix)) attempts++;
      return Promise.reject(new Error("R2 unavailable (test)"));
    });
    let refusal: Response | undefined;
    try {
      // 512 KiB records: the 4 MiB bound is reached after about eight.
      const random = rng(11);
      for (let i = 0; i < 40 && !refusal; i++) {
        const record: NewRec = { body: randomBytes(random, 512 * 1024), timestamp: BASE_TS + 1_000_000 };
        const res = await appendRaw(basin, stream, [record]);
        if (res.status === 200) {
          const ack = await res.json() as { start: { seq_num: number } };
          expect(ack.start.seq_num).toBe(model.length);
          model.push({ seqNum: model.length, timestamp: record.timestamp!, headers: [], body: record.body });
        } else {
          refusal = res;
        }
      }
      expect(refusal, "appends were never refused").toBeDefined();
      const error = await expectS2Error(refusal!, 503, "unavailable");
      expect(error.message).toMatch(/retry/);
      // Refused means not applied: the tail is where the last acknowledged append left it.
      expect((await tailOf(basin, stream)).seq_num).toBe(model.length);
      const tailBytes = (await tailRowsOf(basin, stream)).reduce((n, r) => n + r.bytes, 0);
      expect(tailBytes).toBeGreaterThan(4 * 1024 * 1024);
      expect(tailBytes).toBeLessThan(4 * 1024 * 1024 + 1024 * 1024 + 4096);
      expect(model.length).toBeGreaterThan(7);

      // Durable Streams appends to a stream at its bound are refused the same way.
      const dsName = uniqueStream("ds-r2-down");
      expect((await ds(dsName, { method: "PUT", headers: { "content-type": "text/plain" } })).status).toBe(201);
      let dsRefused = 0;
      for (let i = 0; i < 20 && dsRefused === 0; i++) {
        const res = await ds(dsName, { method: "POST", headers: { "content-type": "text/plain" }, body: "z".repeat(600 * 1024) });
        if (res.status === 503) dsRefused = res.status;
        else expect(res.status).toBe(204);
      }
      expect(dsRefused).toBe(503);
      expect((await tailRowsOf(DS_BASIN, dsName)).reduce((n, r) => n + r.bytes, 0)).toBeLessThan(4 * 1024 * 1024 + 1024 * 1024);
      // Only what would write rows waits for room: closing takes no row, and then an append is the protocol's
      // 409 (closed), not a 503 that a retry could never get past.
      const close = await ds(dsName, { method: "POST", headers: { "stream-closed": "true" } });
      expect(close.status).toBe(204);
      const afterClose = await ds(dsName, { method: "POST", headers: { "content-type": "text/plain" }, body: "late" });
      expect(afterClose.status).toBe(409);

      // Everything acknowledged is readable meanwhile (from the tail).
      expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }, { count: 6 }))).records)).toEqual(view(model.slice(0, 6)));

      // Sealing retries with backoff instead of spinning through alarms: a handful of attempts, not hundreds.
      const before = attempts;
      await sleep(2_000);
      expect(attempts).toBeGreaterThan(0);
      expect(attempts - before).toBeLessThanOrEqual(4);
    } finally {
      restore();
    }

    // R2 is back: the armed retry seals the backlog, and the stream takes appends again.
    await vi.waitFor(async () => {
      expect((await tailRowsOf(basin, stream)).reduce((n, r) => n + r.bytes, 0)).toBeLessThanOrEqual(4096 + 1024 * 1024);
    }, { timeout: 30_000, interval: 200 });
    await settle(basin, stream);
    await appendTo(model, basin, stream, [{ body: utf8("after the outage"), timestamp: BASE_TS + 2_000_000 }]);
    await settle(basin, stream);
    await expectConsistent(basin, stream, model.length);
    for (let seq = 0; seq < model.length; seq += 3) {
      const got = await readUnaryJson(basin, stream, query({ seqNum: seq }, { count: 3 }));
      expect(view(got.records), `seq_num=${seq}`).toEqual(view(expectedRead(model, { seqNum: seq }, unaryCaps({ count: 3 }))));
    }
    expect(await call(`/streams/${stream}/records/tail`, { basin }).then((r) => r.status)).toBe(200);
  });

  it("a stream deleted at its bound (R2 down) is recreated empty and takes appends at once", { timeout: 30_000 }, async () => {
    const stream = uniqueStream("full-del");
    await createStream(basin, stream);
    const restore = hookBucket("put", () => Promise.reject(new Error("R2 unavailable (test)")));
    try {
      const random = rng(12);
      let refused = false;
      for (let i = 0; i < 20 && !refused; i++) refused = (await appendRaw(basin, stream, [{ body: randomBytes(random, 512 * 1024) }])).status === 503;
      expect(refused).toBe(true);
      expect((await call(`/streams/${stream}`, { method: "DELETE", basin })).status).toBe(202);
      await vi.waitFor(async () => expect(await tailRowsOf(basin, stream)).toEqual([]), { timeout: 5_000, interval: 50 });
      // Same instance, still no R2: nothing of the old tail may count against the new stream.
      await createStream(basin, stream);
      const model: Rec[] = [];
      await appendTo(model, basin, stream, [{ body: utf8("first of the new stream") }]);
      expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(model));
    } finally {
      restore();
    }
  });
});

describe("R2 failing reads", () => {
  /** Every get under the prefix fails while `during` runs, as when R2 is unavailable. */
  async function withFailingGets<T>(prefix: string, during: () => Promise<T>): Promise<{ result: T; failed: number }> {
    let failed = 0;
    const restore = hookBucket("get", (original, ...args) => {
      if (!String(args[0]).startsWith(prefix)) return original(...args);
      failed++;
      return Promise.reject(new Error("R2 unavailable (test)"));
    });
    try {
      return { result: await during(), failed };
    } finally {
      restore();
    }
  }

  it("S2: a read that needs a segment answers a retryable 503 unavailable, tail reads go on, and the retry reads it all", async () => {
    const { stream, model } = await filledStream(basin, "get-fails", 8, 12, SHAPE);
    const segments = await segmentsOf(basin, stream);
    expect(segments.length).toBeGreaterThan(0);
    const tailStart = segments[segments.length - 1]!.end;
    const { failed } = await withFailingGets(prefixOf(basin, stream), async () => {
      await expectS2Error(await call(`${recordsPath(stream)}?seq_num=0`, { basin }), 503, "unavailable");
      // A timestamp start is looked up in the segments too.
      await expectS2Error(await call(`${recordsPath(stream)}?timestamp=${BASE_TS}`, { basin }), 503, "unavailable");
      const sse = await call(`${recordsPath(stream)}?seq_num=0`, { basin, headers: { accept: "text/event-stream" } });
      await expectS2Error(sse, 503, "unavailable");
      if (tailStart < model.length) {
        const got = await readUnaryJson(basin, stream, query({ seqNum: tailStart }));
        expect(view(got.records)).toEqual(view(model.slice(tailStart)));
      }
    });
    expect(failed).toBeGreaterThanOrEqual(3);
    // Nothing was consumed or changed by the failures: the same reads now return everything.
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(expectedRead(model, { seqNum: 0 }, unaryCaps({}))));
    expect(view((await readSse(basin, stream, query({ seqNum: 0 }, { count: model.length }))).records)).toEqual(view(model));
  });

  it("Durable Streams: a catch-up read that needs a segment answers 503, and the retry reads it", async () => {
    const name = uniqueStream("ds-get-fails");
    expect((await ds(name, { method: "PUT", headers: { "content-type": "text/plain" } })).status).toBe(201);
    const chunks = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(1500));
    for (const chunk of chunks) expect((await ds(name, { method: "POST", headers: { "content-type": "text/plain" }, body: chunk })).status).toBe(204);
    await settle(DS_BASIN, name);
    expect((await segmentsOf(DS_BASIN, name)).length).toBeGreaterThan(0);
    const query = "offset=0000000000000000_0000000000000000";
    const { result: status, failed } = await withFailingGets(prefixOf(DS_BASIN, name), async () => (await ds(name, { query })).status);
    expect(status).toBe(503);
    expect(failed).toBeGreaterThan(0);
    // Not cached as history, and whole once R2 answers again.
    let body = "";
    let offset = "0000000000000000_0000000000000000";
    for (let i = 0; i < chunks.length && body.length < chunks.join("").length; i++) {
      const res = await ds(name, { query: `offset=${offset}` });
      expect(res.status).toBe(200);
      body += await res.text();
      offset = res.headers.get("stream-next-offset")!;
    }
    expect(body).toBe(chunks.join(""));
  });
});
