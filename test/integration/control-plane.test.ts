// Basins and streams through HTTP (S2-API §6.1, §7, §14.1, §14.4), checked down to the Durable Objects:
// deletion empties stream objects and frees names, racing creates admit one, request tokens replay.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import {
  appendOk, call, createBasin, createStream, env, expectS2Error, expectStatus, storedItems, storedState, tailOf,
  uniqueBasin, uniqueStream,
} from "./helpers";

interface BasinInfo { name: string; location: string | null; created_at: string; deleted_at: string | null; state: string }

async function listedBasins(prefix: string): Promise<BasinInfo[]> {
  const page = (await expectStatus(await call(`/basins?prefix=${prefix}`), 200)) as { basins: BasinInfo[] };
  return page.basins;
}

async function listedStreams(basin: string): Promise<string[]> {
  const page = (await expectStatus(await call("/streams", { basin }), 200)) as { streams: { name: string }[] };
  return page.streams.map((s) => s.name);
}

const accountObject = () => env.ACCOUNT.get(env.ACCOUNT.idFromName("account"));

describe("basins", () => {
  it("creates, rejects a duplicate, lists and returns the config", async () => {
    const name = uniqueBasin("cp-create");
    const res = await call("/basins", { method: "POST", json: { basin: name, config: { create_stream_on_append: true } } });
    expect(res.status).toBe(201);
    expect(res.headers.get("s2-provision-result")).toBe("created");
    const info = (await res.json()) as BasinInfo;
    expect(info).toMatchObject({ name, location: null, deleted_at: null, state: "active" });
    expect(Number.isNaN(Date.parse(info.created_at))).toBe(false);

    await expectS2Error(await call("/basins", { method: "POST", json: { basin: name } }), 409, "resource_already_exists");
    expect((await listedBasins(name)).map((b) => b.name)).toEqual([name]);
    expect(await expectStatus(await call(`/basins/${name}`), 200)).toMatchObject({
      default_stream_config: null, create_stream_on_append: true, create_stream_on_read: false,
    });
  });

  it("ensures with PUT: created, then noop, then updated", async () => {
    const name = uniqueBasin("cp-ensure");
    const first = await call(`/basins/${name}`, { method: "PUT" });
    expect([first.status, first.headers.get("s2-provision-result")]).toEqual([201, "created"]);
    expect(await first.json()).toMatchObject({ name, state: "active" });

    const again = await call(`/basins/${name}`, { method: "PUT" });
    expect([again.status, again.headers.get("s2-provision-result")]).toEqual([200, "noop"]);

    const config = { create_stream_on_read: true, default_stream_config: { storage_class: "standard" } };
    const changed = await call(`/basins/${name}`, { method: "PUT", json: { config } });
    expect([changed.status, changed.headers.get("s2-provision-result")]).toEqual([200, "updated"]);
    expect(await expectStatus(await call(`/basins/${name}`), 200)).toMatchObject({
      create_stream_on_read: true, default_stream_config: { storage_class: "standard" },
    });
  });

  it("reconfigures with PATCH, and 404s an unknown basin", async () => {
    const name = uniqueBasin("cp-patch");
    await createBasin(name);
    const patched = await expectStatus(await call(`/basins/${name}`, {
      method: "PATCH", json: { create_stream_on_append: true, default_stream_config: { retention_policy: { infinite: {} } } },
    }), 200);
    expect(patched).toMatchObject({
      create_stream_on_append: true, create_stream_on_read: false,
      default_stream_config: { retention_policy: { infinite: {} } },
    });
    // Absent fields stay as they are (S2-API §13.2).
    await expectStatus(await call(`/basins/${name}`, { method: "PATCH", json: {} }), 200);
    expect(await expectStatus(await call(`/basins/${name}`), 200)).toEqual(patched);

    const unknown = uniqueBasin("cp-nobody");
    await expectS2Error(await call(`/basins/${unknown}`, { method: "PATCH", json: {} }), 404, "basin_not_found");
    await expectS2Error(await call(`/basins/${unknown}`), 404, "basin_not_found");
    await expectS2Error(await call(`/basins/${unknown}`, { method: "DELETE" }), 404, "basin_not_found");
  });

  it("replays a create with the same request token as noop; another token is 409", async () => {
    const name = uniqueBasin("cp-token");
    const send = (token: string) => call("/basins", { method: "POST", json: { basin: name }, headers: { "s2-request-token": token } });
    const first = await send("tok-1");
    expect([first.status, first.headers.get("s2-provision-result")]).toEqual([201, "created"]);
    const replay = await send("tok-1");
    expect([replay.status, replay.headers.get("s2-provision-result")]).toEqual([201, "noop"]);
    expect(await replay.json()).toMatchObject({ name });
    await expectS2Error(await send("tok-2"), 409, "resource_already_exists");
  });

  it("deletion (202 + account alarm) removes every stream of the basin and frees its names", async () => {
    const basin = uniqueBasin("cp-del");
    await createBasin(basin);
    const streams = [uniqueStream("a"), uniqueStream("b"), "nested/name"];
    for (const stream of streams) {
      await createStream(basin, stream);
      await appendOk(basin, stream, ["1", "2", "3"]);
      expect((await storedState(basin, stream)).batchRows).toBe(1);
    }

    const del = await call(`/basins/${basin}`, { method: "DELETE" });
    expect(del.status).toBe(202);
    expect(await del.text()).toBe("");

    // The alarm is due at once and workerd may already have run it; either way the outcome must follow.
    await runDurableObjectAlarm(accountObject());
    await vi.waitFor(async () => expect(await listedBasins(basin)).toEqual([]), { timeout: 5_000, interval: 50 });
    await expectS2Error(await call(`/basins/${basin}`), 404, "basin_not_found");

    for (const stream of streams) {
      expect(await storedItems(basin, stream)).toBe(0);
      expect(await storedState(basin, stream)).toMatchObject({ metaRows: 0, batchRows: 0 });
    }

    // The names are free again, and a recreated stream starts empty.
    await createBasin(basin);
    expect(await listedStreams(basin)).toEqual([]);
    await createStream(basin, streams[0]!);
    expect(await tailOf(basin, streams[0]!)).toEqual({ seq_num: 0, timestamp: 0 });
    const read = await call(`/streams/${streams[0]}/records?seq_num=0&clamp=true`, { basin });
    expect(read.status).toBe(416);
    expect(await read.json()).toEqual({ tail: { seq_num: 0, timestamp: 0 } });
    const ack = await appendOk(basin, streams[0]!, ["fresh"]);
    expect(ack.start.seq_num).toBe(0);
  });
});

describe("streams", () => {
  it("deletion empties the stream's object and frees its name", async () => {
    const basin = uniqueBasin("cp-sdel");
    await createBasin(basin);
    const stream = uniqueStream();
    await createStream(basin, stream);
    await appendOk(basin, stream, ["x", "y"]);
    expect(await storedItems(basin, stream)).toBeGreaterThan(0);

    const del = await call(`/streams/${stream}`, { method: "DELETE", basin });
    expect(del.status).toBe(202);
    await vi.waitFor(async () => expect(await listedStreams(basin)).toEqual([]), { timeout: 5_000, interval: 50 });

    expect(await storedItems(basin, stream)).toBe(0);
    await expectS2Error(await call(`/streams/${stream}`, { basin }), 404, "stream_not_found");
    await expectS2Error(await call(`/streams/${stream}/records/tail`, { basin }), 404, "stream_not_found");
    await expectS2Error(await call(`/streams/${stream}`, { method: "DELETE", basin }), 404, "stream_not_found");

    await createStream(basin, stream);
    expect(await tailOf(basin, stream)).toEqual({ seq_num: 0, timestamp: 0 });
    expect((await appendOk(basin, stream, ["again"])).start.seq_num).toBe(0);
    expect(await listedStreams(basin)).toEqual([stream]);
  });

  it("admits exactly one of two racing creates", async () => {
    const basin = uniqueBasin("cp-race");
    await createBasin(basin);
    for (let round = 0; round < 5; round++) {
      const stream = uniqueStream(`race${round}`);
      const responses = await Promise.all([0, 1].map(() => call("/streams", { method: "POST", basin, json: { stream } })));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409]);
      const loser = responses.find((r) => r.status === 409)!;
      await expectS2Error(loser, 409, "resource_already_exists");
      expect((await storedState(basin, stream)).metaRows).toBe(1);
    }
    expect((await listedStreams(basin)).length).toBe(5);
  });

  it("replays a create with the same request token as noop; another token or config is 409", async () => {
    const basin = uniqueBasin("cp-stok");
    await createBasin(basin);
    const stream = uniqueStream();
    const send = (token: string, config?: unknown) =>
      call("/streams", { method: "POST", basin, json: { stream, ...(config ? { config } : {}) }, headers: { "s2-request-token": token } });
    const config = { storage_class: "standard" };

    const first = await send("t-1", config);
    expect([first.status, first.headers.get("s2-provision-result")]).toEqual([201, "created"]);
    await appendOk(basin, stream, ["kept"]);

    const replay = await send("t-1", config);
    expect([replay.status, replay.headers.get("s2-provision-result")]).toEqual([201, "noop"]);
    expect(await replay.json()).toMatchObject({ name: stream, deleted_at: null });
    // A replay writes nothing: the record appended after the create is still there.
    expect((await tailOf(basin, stream)).seq_num).toBe(1);

    await expectS2Error(await send("t-2", config), 409, "resource_already_exists");
    await expectS2Error(await send("t-1", { storage_class: "express" }), 409, "resource_already_exists");
    await expectS2Error(await call("/streams", { method: "POST", basin, json: { stream } }), 409, "resource_already_exists");
  });

  it("creates, ensures and reconfigures a stream through HTTP", async () => {
    const basin = uniqueBasin("cp-scfg");
    await createBasin(basin);
    const stream = uniqueStream();
    const put = await call(`/streams/${stream}`, { method: "PUT", basin, json: { storage_class: "standard" } });
    expect([put.status, put.headers.get("s2-provision-result")]).toEqual([201, "created"]);
    const same = await call(`/streams/${stream}`, { method: "PUT", basin, json: { storage_class: "standard" } });
    expect([same.status, same.headers.get("s2-provision-result")]).toEqual([200, "noop"]);

    const patched = await expectStatus(await call(`/streams/${stream}`, {
      method: "PATCH", basin, json: { retention_policy: { infinite: {} } },
    }), 200);
    expect(patched).toEqual({
      storage_class: "standard", retention_policy: { infinite: {} },
      timestamping: { mode: "client-prefer", uncapped: false }, delete_on_empty: { min_age_secs: 0 },
    });
    expect(await expectStatus(await call(`/streams/${stream}`, { basin }), 200)).toEqual(patched);

    // PUT resets unspecified fields to defaults (S2-API §13.3).
    const reset = await call(`/streams/${stream}`, { method: "PUT", basin });
    expect([reset.status, reset.headers.get("s2-provision-result")]).toEqual([200, "updated"]);
    expect(await expectStatus(await call(`/streams/${stream}`, { basin }), 200)).toMatchObject({
      storage_class: "express", retention_policy: { age: 604800 },
    });
  });
});
