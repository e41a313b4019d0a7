// Tiered storage, retention and deletion (issue item 4; S2-API §14.2–14.5): age retention hides expired records at
// once and removes them lazily (the alarm drops tail rows, index rows and R2 objects), infinite retention keeps
// everything sealed, a trim command moves the trim point (reads start there, the tail does not move) and the
// segments below it go, delete-on-empty deletes an emptied stream, deleting a stream removes its object storage
// and R2 objects even with a seal in flight, a recreated stream starts empty, and deleting a basin deletes its
// streams with their segments.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { StreamObject } from "../../src/stream/stream-object";
import {
  call, createBasin, createStream, env, expectS2Error, expectStatus, storedItems, streamObject, tailOf, uniqueBasin, uniqueStream,
} from "./helpers";
import {
  appendTo, BASE_TS, expectedRead, fileBasin, fill, filledStream, gate, hookBucket, prefixOf, query, r2Keys, readSse,
  readUnaryJson, segmentsOf, settle, sleep, tailRowsOf, unaryCaps, utf8, view, type FillShape, type NewRec, type Rec,
} from "./tiered-support";

const basin = fileBasin("tiered-ret");
const SHAPE: FillShape = { recordsMax: 3, bodyBytes: [0, 900] };

/** A trim command record (S2-API §8.2): one header with an empty name and value `trim`, an 8-byte body. */
const trimRecord = (point: number, timestamp: number): NewRec => {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setBigUint64(0, BigInt(point));
  return { headers: [[new Uint8Array(0), utf8("trim")]], body, timestamp };
};

/** R2 holds exactly what the index references: nothing leaked, nothing missing. */
async function expectR2MatchesIndex(b: string, s: string): Promise<void> {
  const indexed = (await segmentsOf(b, s)).map((seg) => seg.key).sort();
  expect(await r2Keys(prefixOf(b, s))).toEqual(indexed);
}

/** The object's alarm handler, run now whether or not an alarm is armed. */
const runMaintenance = (b: string, s: string) =>
  runInDurableObject(streamObject(b, s), (instance: StreamObject) => instance.alarm());

describe("age retention", () => {
  it("expired records vanish from reads at once and are removed lazily: tail rows, index rows, R2 objects", async () => {
    const { stream, model: old } = await filledStream(basin, "age", 10, 1, SHAPE, { retention_policy: { age: 1 } });
    const sealed = await segmentsOf(basin, stream);
    expect(sealed.length).toBeGreaterThan(1);
    expect(sealed.every((s) => s.expiresAtMs !== null)).toBe(true);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(old));

    await sleep(1_100);
    // Expired: skipped by reads, whether or not maintenance ran yet (S2-API §10.2: reads start at the oldest
    // surviving record; a read over nothing but expired records is empty).
    const empty = await readUnaryJson(basin, stream, query({ seqNum: 0 }));
    expect(empty.status).toBe(200);
    expect(empty.records).toEqual([]);

    // New records after the expired ones are what a read from 0 returns, sealed or not.
    const model = [...old];
    await fill(model, basin, stream, 6, 2, SHAPE);
    const fresh = model.slice(old.length);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(fresh));
    expect(view((await readUnaryJson(basin, stream, query({ timestamp: 0 }))).records)).toEqual(view(fresh));

    // Lazily: the alarm drops the expired rows and segments, index first, then R2.
    await runMaintenance(basin, stream);
    await vi.waitFor(async () => {
      const segments = await segmentsOf(basin, stream);
      expect(segments.every((s) => s.start >= old.length)).toBe(true);
      expect((await tailRowsOf(basin, stream)).every((r) => r.start >= old.length)).toBe(true);
    }, { timeout: 5_000, interval: 100 });
    await expectR2MatchesIndex(basin, stream);
    await settle(basin, stream);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(fresh));
    // The tail never moves back: seq nums keep counting from where the expired records ended.
    expect((await tailOf(basin, stream)).seq_num).toBe(model.length);
  });

  it("a timestamp start that falls in an expired, not yet dropped segment finds the live segments after it", async () => {
    const { stream, model } = await filledStream(basin, "age-ts", 14, 3, SHAPE, { retention_policy: { infinite: {} } });
    const segments = await segmentsOf(basin, stream);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    // The first two segments expire (as they would under a shorter retention), and maintenance is late: the
    // alarm that would drop them has not run (nothing is armed).
    const expiredEnd = segments[1]!.end;
    await runInDurableObject(streamObject(basin, stream), async (_instance, state) => {
      const sql = state.storage.sql;
      for (const s of segments.slice(0, 2)) {
        const blocks = (JSON.parse(sql.exec<{ blocks: string }>("SELECT blocks FROM segments WHERE start_seq_num = ?", s.start).one().blocks) as { expiresAtMs: number | null }[])
          .map((block) => ({ ...block, expiresAtMs: 1 }));
        sql.exec("UPDATE segments SET expires_at_ms = 1, blocks = ? WHERE start_seq_num = ?", JSON.stringify(blocks), s.start);
      }
      await state.storage.deleteAlarm();
    });
    const live = model.filter((r) => r.seqNum >= expiredEnd);
    for (const t of [0, model[0]!.timestamp, model[expiredEnd - 1]!.timestamp, model[expiredEnd]!.timestamp]) {
      const got = await readUnaryJson(basin, stream, query({ timestamp: t }));
      expect(got.status).toBe(200);
      expect(view(got.records), `timestamp=${t}`).toEqual(view(expectedRead(model, { timestamp: t }, unaryCaps({}), expiredEnd)));
    }
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(live));
    // Once maintenance runs, the same reads, and the expired segments are gone from the index and R2.
    await runMaintenance(basin, stream);
    expect((await segmentsOf(basin, stream))[0]!.start).toBe(expiredEnd);
    await expectR2MatchesIndex(basin, stream);
    expect(view((await readUnaryJson(basin, stream, query({ timestamp: 0 }))).records)).toEqual(view(live));
  });

  it("infinite retention keeps every sealed record: segments never expire and maintenance drops nothing", async () => {
    const { stream, model } = await filledStream(basin, "inf", 12, 4, SHAPE, { retention_policy: { infinite: {} } });
    const before = await segmentsOf(basin, stream);
    expect(before.length).toBeGreaterThan(1);
    expect(before.every((s) => s.expiresAtMs === null)).toBe(true);
    await runMaintenance(basin, stream);
    expect(await segmentsOf(basin, stream)).toEqual(before);
    await expectR2MatchesIndex(basin, stream);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(model));
  });
});

describe("trim", () => {
  it("moves the trim point: reads start there at once, the tail stays, sealed segments below it go", async () => {
    const { stream, model } = await filledStream(basin, "trim", 16, 5, SHAPE);
    const segments = await segmentsOf(basin, stream);
    expect(segments.length).toBeGreaterThanOrEqual(4);
    // A trim point inside the third segment: the two before it go whole, the third stays (partly trimmed).
    const third = segments[2]!;
    const point = third.end - 1 > third.start ? third.start + 1 : third.start;
    const ack = await appendTo(model, basin, stream, [trimRecord(point, BASE_TS + model.length * 10)]);
    const tail = await tailOf(basin, stream);
    expect(tail.seq_num).toBe(ack.end.seq_num);

    const check = async () => {
      const expected = model.slice(point);
      expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(expected));
      expect(view((await readUnaryJson(basin, stream, query({ seqNum: point - 1 }, { count: 2 }))).records)).toEqual(view(expected.slice(0, 2)));
      expect(view((await readUnaryJson(basin, stream, query({ timestamp: 0 }))).records)).toEqual(view(expected));
      expect(view((await readUnaryJson(basin, stream, query({ tailOffset: model.length + 5 }))).records)).toEqual(view(expected));
      const sse = await readSse(basin, stream, query({ seqNum: 0 }, { count: 1000 }));
      expect(view(sse.records)).toEqual(view(expected));
      expect(await tailOf(basin, stream)).toEqual(tail);
    };
    await check();
    await runMaintenance(basin, stream);
    const after = await segmentsOf(basin, stream);
    // Whole segments below the trim point left the index; the one the trim point cuts stayed, as did the rest.
    expect(after.slice(0, segments.length - 2)).toEqual(segments.slice(2));
    await expectR2MatchesIndex(basin, stream);
    await check();

    // Trimming past everything (the trim point stops at the trim record itself + 1): the stream reads empty,
    // its segments and rows all go, and seq nums go on from the same tail.
    const all = await appendTo(model, basin, stream, [trimRecord(1_000_000, BASE_TS + model.length * 10)]);
    const emptied = await readUnaryJson(basin, stream, query({ seqNum: 0 }));
    expect(emptied.status).toBe(200);
    expect(emptied.records).toEqual([]);
    await runMaintenance(basin, stream);
    expect(await segmentsOf(basin, stream)).toEqual([]);
    expect(await tailRowsOf(basin, stream)).toEqual([]);
    expect(await r2Keys(prefixOf(basin, stream))).toEqual([]);
    const next = await appendTo(model, basin, stream, [{ body: utf8("after"), timestamp: BASE_TS + 999_999 }]);
    expect(next.start.seq_num).toBe(all.end.seq_num);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(model.slice(-1)));
  });
});

describe("delete-on-empty", () => {
  it("deletes a stream whose records all expired and that took no append for min_age_secs, with its segments", async () => {
    const { stream } = await filledStream(basin, "doe", 8, 6, SHAPE, { retention_policy: { age: 1 }, delete_on_empty: { min_age_secs: 1 } });
    expect((await segmentsOf(basin, stream)).length).toBeGreaterThan(0);
    const prefix = prefixOf(basin, stream);
    expect((await r2Keys(prefix)).length).toBeGreaterThan(0);

    // A live neighbour with the same config that keeps appending is not deleted.
    const busy = uniqueStream("doe-busy");
    await createStream(basin, busy, { retention_policy: { age: 60 }, delete_on_empty: { min_age_secs: 1 } });
    await appendTo([], basin, busy, [{ body: utf8("alive") }]);

    await sleep(1_200);
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(streamObject(basin, stream)).catch(() => false);
      await expectS2Error(await call(`/streams/${stream}/records/tail`, { basin }), 404, "stream_not_found");
    }, { timeout: 8_000, interval: 200 });
    expect(await r2Keys(prefix)).toEqual([]);
    expect(await storedItems(basin, stream)).toBe(0);
    const listed = (await expectStatus(await call("/streams", { basin }), 200)) as { streams: { name: string }[] };
    expect(listed.streams.map((s) => s.name)).not.toContain(stream);

    await runMaintenance(basin, busy);
    expect((await tailOf(basin, busy)).seq_num).toBe(1);
  });
});

describe("deletion", () => {
  it("removes the stream's object storage and R2 objects; a recreated stream of the same name starts empty", async () => {
    const { stream } = await filledStream(basin, "del", 12, 7, SHAPE);
    const prefix = prefixOf(basin, stream);
    expect((await r2Keys(prefix)).length).toBeGreaterThan(1);

    expect((await call(`/streams/${stream}`, { method: "DELETE", basin })).status).toBe(202);
    await vi.waitFor(async () => expect(await storedItems(basin, stream)).toBe(0), { timeout: 5_000, interval: 50 });
    expect(await r2Keys(prefix)).toEqual([]);

    await createStream(basin, stream);
    expect(await tailOf(basin, stream)).toEqual({ seq_num: 0, timestamp: 0 });
    expect((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).status).toBe(416);
    // Same shapes as before (same seq ranges, so the same segment boundaries), other bytes.
    const fresh: Rec[] = [];
    await fill(fresh, basin, stream, 12, 8, SHAPE);
    await settle(basin, stream);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(fresh));
    await expectR2MatchesIndex(basin, stream);
  });

  it("a delete that meets a seal in flight waits for it: no segment outlives the stream or lands in its successor", async () => {
    const { stream, model: old } = await filledStream(basin, "del-seal", 3, 9, SHAPE);
    const prefix = prefixOf(basin, stream);

    // Puts wait at the gate: the seal the next appends arm (the object's own alarm) is in flight while the
    // stream is deleted, recreated and refilled with rows of the very same seq ranges (other bytes).
    const held = gate();
    let puts = 0;
    const restore = hookBucket("put", async (original, ...args) => {
      puts++;
      await held.promise;
      return original(...args);
    });
    const fresh: Rec[] = [];
    try {
      await fill(old, basin, stream, 6, 10, SHAPE);
      for (let i = 0; i < 300 && puts === 0; i++) await sleep(10);
      expect(puts).toBeGreaterThan(0);
      let deleted = false;
      const deleting = call(`/streams/${stream}`, { method: "DELETE", basin }).finally(() => {
        deleted = true;
      });
      await sleep(200);
      // The delete waits for the seal in flight (it would otherwise be done by now).
      expect(deleted).toBe(false);
      held.open();
      expect((await deleting).status).toBe(202);
      await vi.waitFor(async () => expect(await storedItems(basin, stream)).toBe(0), { timeout: 5_000, interval: 50 });
      expect(await r2Keys(prefix)).toEqual([]);
      await createStream(basin, stream);
      await fill(fresh, basin, stream, 9, 9, { ...SHAPE, invert: true });
    } finally {
      held.open();
      restore();
    }
    await settle(basin, stream);
    expect(view((await readUnaryJson(basin, stream, query({ seqNum: 0 }))).records)).toEqual(view(fresh));
    await expectR2MatchesIndex(basin, stream);
  });

  it("deleting a basin deletes its streams, their object storage and their segments", async () => {
    const doomed = uniqueBasin("tiered-bdel");
    await createBasin(doomed);
    const streams = [uniqueStream("a"), uniqueStream("b")];
    for (const [i, stream] of streams.entries()) {
      await createStream(doomed, stream);
      await fill([], doomed, stream, 10, 20 + i, SHAPE);
      await settle(doomed, stream);
      expect((await r2Keys(prefixOf(doomed, stream))).length).toBeGreaterThan(0);
    }
    expect((await call(`/basins/${doomed}`, { method: "DELETE" })).status).toBe(202);
    await runDurableObjectAlarm(env.ACCOUNT.get(env.ACCOUNT.idFromName("account"))).catch(() => false);
    await vi.waitFor(async () => {
      await expectS2Error(await call(`/basins/${doomed}`), 404, "basin_not_found");
    }, { timeout: 8_000, interval: 100 });
    for (const stream of streams) {
      expect(await storedItems(doomed, stream)).toBe(0);
      expect(await r2Keys(prefixOf(doomed, stream))).toEqual([]);
    }
  });
});
