// Appends as they land in the StreamObject's SQLite (DESIGN.md §1–2, S2-API §8–9): one packed row per batch,
// atomic rejection, stream_meta's tail in step with acks, survival across eviction, and gap-free sequencing
// under concurrency.
import { evictDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  append, appendOk, call, createBasin, createStream, expectS2Error, expectStatus, recordsPath, storedState,
  streamObject, tailOf, uniqueBasin, uniqueStream, type Ack,
} from "./helpers";

const basin = uniqueBasin("append");

beforeAll(async () => {
  await createBasin(basin);
});

async function newStream(config?: unknown): Promise<string> {
  const stream = uniqueStream();
  await createStream(basin, stream, config);
  return stream;
}

describe("append storage", () => {
  it("stores a batch of many records as exactly one record_batches row", async () => {
    const stream = await newStream();
    const before = await storedState(basin, stream);
    expect(before).toMatchObject({ metaRows: 1, batchRows: 0, tail: { seq_num: 0, timestamp: 0 } });

    const ack = await appendOk(basin, stream, ["a", "b", "c", "d", "e"]);
    expect(ack.start.seq_num).toBe(0);
    expect(ack.end.seq_num).toBe(5);

    const after = await storedState(basin, stream);
    expect(after.batchRows).toBe(1);
    expect(after.batches).toEqual([{ start: 0, end: 5 }]);

    const second = await appendOk(basin, stream, ["f", "g", "h"]);
    expect(second.start.seq_num).toBe(5);
    expect(second.end.seq_num).toBe(8);
    expect((await storedState(basin, stream)).batches).toEqual([{ start: 0, end: 5 }, { start: 5, end: 8 }]);
  });

  it("keeps stream_meta's tail equal to the ack's tail after every append", async () => {
    const stream = await newStream();
    let previous: Ack | undefined;
    for (const bodies of [["x"], ["y", "z"], ["w", "v", "u"]]) {
      const ack = await appendOk(basin, stream, bodies);
      expect(ack.end.seq_num - ack.start.seq_num).toBe(bodies.length);
      expect(ack.tail.seq_num).toBeGreaterThanOrEqual(ack.end.seq_num);
      if (previous) expect(ack.start.seq_num).toBe(previous.end.seq_num);
      const stored = await storedState(basin, stream);
      expect(stored.tail).toEqual(ack.tail);
      expect(stored.tail).toEqual(ack.end);
      expect(await tailOf(basin, stream)).toEqual(ack.tail);
      previous = ack;
    }
  });

  it("writes nothing when match_seq_num fails (412)", async () => {
    const stream = await newStream();
    await appendOk(basin, stream, ["one", "two"]);
    const before = await storedState(basin, stream);

    const res = await append(basin, stream, { records: [{ body: "three" }], match_seq_num: 0 });
    expect(res.status).toBe(412);
    expect(await res.json()).toEqual({ seq_num_mismatch: 2 });

    // match_seq_num: 0 is a real condition, not "unset" (S2-API §9.2).
    const fresh = await newStream();
    const zero = await append(basin, fresh, { records: [{ body: "first" }], match_seq_num: 0 });
    expect(zero.status).toBe(200);

    expect(await storedState(basin, stream)).toEqual(before);
    expect(await tailOf(basin, stream)).toEqual(before.tail);
  });

  it("writes nothing when the fencing token differs (412), and fences only later batches", async () => {
    const stream = await newStream();
    const fence = await append(basin, stream, { records: [{ headers: [["", "fence"]], body: "tok" }], fencing_token: "" });
    expect(fence.status).toBe(200);
    const before = await storedState(basin, stream);
    expect(before.batchRows).toBe(1);

    const res = await append(basin, stream, { records: [{ body: "late" }], fencing_token: "other" });
    expect(res.status).toBe(412);
    expect(await res.json()).toEqual({ fencing_token_mismatch: "tok" });
    expect(await storedState(basin, stream)).toEqual(before);

    const ok = await append(basin, stream, { records: [{ body: "fenced" }], fencing_token: "tok" });
    expect(ok.status).toBe(200);
    expect((await storedState(basin, stream)).batchRows).toBe(2);
  });

  it("writes nothing for an invalid batch (422), whether rejected at the edge or in the object", async () => {
    const stream = await newStream({ timestamping: { mode: "client-require" } });
    await expectStatus(await append(basin, stream, { records: [{ body: "ok", timestamp: 10 }] }), 200);
    const before = await storedState(basin, stream);

    // Edge checks (S2-API §8.2, §8.4): empty batch, unknown command, > 1000 records.
    await expectS2Error(await append(basin, stream, { records: [] }), 422, "invalid");
    await expectS2Error(await append(basin, stream, { records: [{ headers: [["", "bogus"]] }] }), 422, "invalid");
    const tooMany = Array.from({ length: 1001 }, () => ({ body: "r", timestamp: 11 }));
    await expectS2Error(await append(basin, stream, { records: tooMany }), 422, "invalid");
    // Object check (S2-API §9.2 step 4): client-require with one timestamp missing rejects the whole batch.
    await expectS2Error(
      await append(basin, stream, { records: [{ body: "has", timestamp: 12 }, { body: "lacks" }] }),
      422, "invalid",
    );

    expect(await storedState(basin, stream)).toEqual(before);
    expect(await tailOf(basin, stream)).toEqual(before.tail);
  });

  it("keeps tail and records across eviction of the stream's object", async () => {
    const stream = await newStream();
    await appendOk(basin, stream, ["alpha", "beta"]);
    const last = await appendOk(basin, stream, ["gamma"]);
    const stub = streamObject(basin, stream);

    await evictDurableObject(stub);

    expect(await tailOf(basin, stream)).toEqual(last.tail);
    const read = await call(`${recordsPath(stream)}?seq_num=0`, { basin });
    const batch = (await expectStatus(read, 200)) as { records: { seq_num: number; body?: string }[] };
    expect(batch.records.map((r) => [r.seq_num, r.body])).toEqual([[0, "alpha"], [1, "beta"], [2, "gamma"]]);
    expect((await storedState(basin, stream)).batches).toEqual([{ start: 0, end: 2 }, { start: 2, end: 3 }]);

    // The evicted object keeps sequencing from its stored tail, not from zero.
    await evictDurableObject(stub);
    const next = await appendOk(basin, stream, ["delta"]);
    expect(next.start.seq_num).toBe(3);
    expect(next.start.timestamp).toBeGreaterThanOrEqual(last.end.timestamp);
  });

  it("gives concurrent appends distinct, gap-free seq nums, one row each", async () => {
    const stream = await newStream();
    const sizes = Array.from({ length: 20 }, (_, i) => (i % 3) + 1);
    const acks = await Promise.all(
      sizes.map((n, i) => appendOk(basin, stream, Array.from({ length: n }, (_, j) => `c${i}-${j}`))),
    );
    const total = sizes.reduce((a, b) => a + b, 0);

    acks.forEach((ack, i) => expect(ack.end.seq_num - ack.start.seq_num).toBe(sizes[i]));
    const ranges = acks.map((a) => [a.start.seq_num, a.end.seq_num] as const).sort((x, y) => x[0] - y[0]);
    let expected = 0;
    for (const [start, end] of ranges) {
      expect(start).toBe(expected);
      expected = end;
    }
    expect(expected).toBe(total);

    const stored = await storedState(basin, stream);
    expect(stored.batchRows).toBe(20);
    expect(stored.tail?.seq_num).toBe(total);
    expect(stored.batches.map((b) => [b.start, b.end])).toEqual(ranges.map(([s, e]) => [s, e]));

    // Each batch's records are contiguous and in order: batch i holds c{i}-0..c{i}-(n-1).
    const read = (await expectStatus(await call(`${recordsPath(stream)}?seq_num=0`, { basin }), 200)) as {
      records: { seq_num: number; body?: string }[];
    };
    expect(read.records.map((r) => r.seq_num)).toEqual(Array.from({ length: total }, (_, i) => i));
    acks.forEach((ack, i) => {
      const bodies = read.records.slice(ack.start.seq_num, ack.end.seq_num).map((r) => r.body);
      expect(bodies).toEqual(Array.from({ length: sizes[i]! }, (_, j) => `c${i}-${j}`));
    });
  });
});
