// Implicit stream creation (S2-API §4.1 BasinConfig, §7, §9.2 step 2, §10.3, §11): create_stream_on_append /
// create_stream_on_read, unknown basins, and basin default_stream_config applied to new streams.
import { describe, expect, it } from "vitest";
import {
  append, call, createBasin, createStream, expectS2Error, expectStatus, recordsPath, storedState, tailOf,
  uniqueBasin, uniqueStream, type Ack,
} from "./helpers";

const SYSTEM_DEFAULTS = {
  storage_class: "express",
  retention_policy: { age: 604800 },
  timestamping: { mode: "client-prefer", uncapped: false },
  delete_on_empty: { min_age_secs: 0 },
};

async function streamConfig(basin: string, stream: string): Promise<unknown> {
  return expectStatus(await call(`/streams/${encodeURIComponent(stream)}`, { basin }), 200);
}

async function listedStreams(basin: string): Promise<string[]> {
  const page = (await expectStatus(await call("/streams", { basin }), 200)) as { streams: { name: string }[] };
  return page.streams.map((s) => s.name);
}

describe("create_stream_on_append", () => {
  it("off: appending to an unknown stream is 404 stream_not_found and creates nothing", async () => {
    const basin = uniqueBasin("ac-off");
    await createBasin(basin, { create_stream_on_read: true });
    const stream = uniqueStream();
    await expectS2Error(await append(basin, stream, { records: [{ body: "x" }] }), 404, "stream_not_found");
    await expectS2Error(await call(`/streams/${stream}`, { basin }), 404, "stream_not_found");
    expect(await listedStreams(basin)).toEqual([]);
    expect(await storedState(basin, stream)).toMatchObject({ metaRows: 0, batchRows: 0 });
  });

  it("on: appending creates the stream with the basin defaults, and the batch lands", async () => {
    const basin = uniqueBasin("ac-on");
    const defaults = { storage_class: "standard", retention_policy: { infinite: {} } };
    await createBasin(basin, { create_stream_on_append: true, default_stream_config: defaults });
    const stream = uniqueStream("auto/app");

    const ack = (await expectStatus(await append(basin, stream, { records: [{ body: "a" }, { body: "b" }] }), 200)) as Ack;
    expect(ack.start.seq_num).toBe(0);
    expect(ack.end.seq_num).toBe(2);
    expect(await listedStreams(basin)).toEqual([stream]);
    expect(await streamConfig(basin, stream)).toEqual({ ...SYSTEM_DEFAULTS, ...defaults });
    expect(await storedState(basin, stream)).toMatchObject({ metaRows: 1, batchRows: 1, tail: ack.tail });

    // The next append goes to the same stream, not a fresh one.
    const next = (await expectStatus(await append(basin, stream, { records: [{ body: "c" }] }), 200)) as Ack;
    expect(next.start.seq_num).toBe(2);
  });

  it("on, with racing first appends: every batch lands in one stream, gap-free", async () => {
    const basin = uniqueBasin("ac-race");
    await createBasin(basin, { create_stream_on_append: true });
    const stream = uniqueStream();
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => append(basin, stream, { records: [{ body: `r${i}` }] })),
    );
    const acks: Ack[] = [];
    for (const res of responses) {
      // S2-API §9.2 allows `409 transaction_conflict` for a lost auto-create race; anything else is wrong.
      if (res.status === 409) await expectS2Error(res, 409, "transaction_conflict");
      else acks.push((await expectStatus(res, 200)) as Ack);
    }
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.map((a) => a.start.seq_num).sort((a, b) => a - b)).toEqual(acks.map((_, i) => i));
    expect((await tailOf(basin, stream)).seq_num).toBe(acks.length);
    expect(await listedStreams(basin)).toEqual([stream]);
  });
});

describe("create_stream_on_read", () => {
  it("on: check-tail creates the stream and answers the empty tail", async () => {
    const basin = uniqueBasin("ac-read");
    await createBasin(basin, { create_stream_on_read: true, default_stream_config: { timestamping: { mode: "arrival" } } });
    const stream = uniqueStream();
    expect(await tailOf(basin, stream)).toEqual({ seq_num: 0, timestamp: 0 });
    expect(await listedStreams(basin)).toEqual([stream]);
    expect(await streamConfig(basin, stream)).toEqual({ ...SYSTEM_DEFAULTS, timestamping: { mode: "arrival", uncapped: false } });
    expect(await storedState(basin, stream)).toMatchObject({ metaRows: 1, batchRows: 0 });
  });

  it("on: a read of an unknown stream creates it, then reads at the tail (416)", async () => {
    const basin = uniqueBasin("ac-read2");
    await createBasin(basin, { create_stream_on_read: true });
    const stream = uniqueStream();
    const res = await call(recordsPath(stream), { basin });
    expect(res.status).toBe(416);
    expect(await res.json()).toEqual({ tail: { seq_num: 0, timestamp: 0 } });
    expect(await listedStreams(basin)).toEqual([stream]);
  });

  it("on, with racing first check-tails: each sees the empty tail of one new stream", async () => {
    const basin = uniqueBasin("ac-rrace");
    await createBasin(basin, { create_stream_on_read: true });
    const stream = uniqueStream();
    const responses = await Promise.all(Array.from({ length: 5 }, () => call(`${recordsPath(stream)}/tail`, { basin })));
    for (const res of responses) {
      if (res.status === 409) await expectS2Error(res, 409, "transaction_conflict");
      else expect(await expectStatus(res, 200)).toEqual({ tail: { seq_num: 0, timestamp: 0 } });
    }
    expect(await listedStreams(basin)).toEqual([stream]);
  });

  it("on for reads only: appends still 404, check-tail still creates", async () => {
    const basin = uniqueBasin("ac-ronly");
    await createBasin(basin, { create_stream_on_read: true, create_stream_on_append: false });
    const stream = uniqueStream();
    await expectS2Error(await append(basin, stream, { records: [{ body: "x" }] }), 404, "stream_not_found");
    expect(await tailOf(basin, stream)).toEqual({ seq_num: 0, timestamp: 0 });
    expect((await expectStatus(await append(basin, stream, { records: [{ body: "x" }] }), 200) as Ack).start.seq_num).toBe(0);
  });

  it("off: check-tail and read of an unknown stream are 404 stream_not_found and create nothing", async () => {
    const basin = uniqueBasin("ac-roff");
    await createBasin(basin, { create_stream_on_append: true });
    const stream = uniqueStream();
    await expectS2Error(await call(`${recordsPath(stream)}/tail`, { basin }), 404, "stream_not_found");
    await expectS2Error(await call(`${recordsPath(stream)}?seq_num=0`, { basin }), 404, "stream_not_found");
    expect(await listedStreams(basin)).toEqual([]);
  });

  it("turned on later by PATCH takes effect for the next call", async () => {
    const basin = uniqueBasin("ac-patch");
    await createBasin(basin);
    const stream = uniqueStream();
    await expectS2Error(await call(`${recordsPath(stream)}/tail`, { basin }), 404, "stream_not_found");
    await expectStatus(await call(`/basins/${basin}`, { method: "PATCH", json: { create_stream_on_read: true } }), 200);
    expect(await tailOf(basin, stream)).toEqual({ seq_num: 0, timestamp: 0 });
  });
});

describe("unknown basin", () => {
  it("answers 404 basin_not_found for append, read, check-tail, create and ensure", async () => {
    const basin = uniqueBasin("ac-ghost");
    const stream = uniqueStream();
    await expectS2Error(await append(basin, stream, { records: [{ body: "x" }] }), 404, "basin_not_found");
    await expectS2Error(await call(`${recordsPath(stream)}?seq_num=0`, { basin }), 404, "basin_not_found");
    await expectS2Error(await call(`${recordsPath(stream)}/tail`, { basin }), 404, "basin_not_found");
    await expectS2Error(await call("/streams", { method: "POST", basin, json: { stream } }), 404, "basin_not_found");
    await expectS2Error(await call(`/streams/${stream}`, { method: "PUT", basin }), 404, "basin_not_found");
    await expectS2Error(await call(`/streams/${stream}`, { method: "PATCH", basin, json: {} }), 404, "basin_not_found");
    expect(await storedState(basin, stream)).toMatchObject({ metaRows: 0, batchRows: 0 });
  });
});

describe("basin default_stream_config", () => {
  it("applies to explicitly created streams, field by field under the stream's own config", async () => {
    const basin = uniqueBasin("ac-defs");
    const defaults = { storage_class: "standard", retention_policy: { age: 3600 }, timestamping: { uncapped: true } };
    await createBasin(basin, { default_stream_config: defaults });

    const plain = uniqueStream("plain");
    await createStream(basin, plain);
    expect(await streamConfig(basin, plain)).toEqual({
      ...SYSTEM_DEFAULTS, storage_class: "standard", retention_policy: { age: 3600 },
      timestamping: { mode: "client-prefer", uncapped: true },
    });

    const own = uniqueStream("own");
    await createStream(basin, own, { retention_policy: { infinite: {} }, timestamping: { mode: "arrival" } });
    expect(await streamConfig(basin, own)).toEqual({
      ...SYSTEM_DEFAULTS, storage_class: "standard", retention_policy: { infinite: {} },
      timestamping: { mode: "arrival", uncapped: true },
    });

    const ensured = uniqueStream("put");
    await expectStatus(await call(`/streams/${ensured}`, { method: "PUT", basin }), 201);
    expect(await streamConfig(basin, ensured)).toEqual(await streamConfig(basin, plain));
  });

  it("governs appends to an auto-created stream (client-require) and does not follow later basin changes", async () => {
    const basin = uniqueBasin("ac-req");
    await createBasin(basin, { create_stream_on_append: true, default_stream_config: { timestamping: { mode: "client-require" } } });
    const stream = uniqueStream();
    // The batch is checked after the stream is created: the missing timestamp is refused by the new stream.
    const first = await append(basin, stream, { records: [{ body: "no ts" }] });
    await expectS2Error(first, 422, "invalid");
    expect(await tailOf(basin, stream)).toEqual({ seq_num: 0, timestamp: 0 });
    const ok = (await expectStatus(await append(basin, stream, { records: [{ body: "ts", timestamp: 1234 }] }), 200)) as Ack;
    expect(ok.start).toEqual({ seq_num: 0, timestamp: 1234 });

    await expectStatus(await call(`/basins/${basin}`, {
      method: "PATCH", json: { default_stream_config: { timestamping: { mode: "arrival" } } },
    }), 200);
    expect(await streamConfig(basin, stream)).toMatchObject({ timestamping: { mode: "client-require" } });
    await expectS2Error(await append(basin, stream, { records: [{ body: "still no ts" }] }), 422, "invalid");
  });
});
