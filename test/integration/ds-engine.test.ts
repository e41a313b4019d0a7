// One engine, two protocols (DESIGN.md §4): a Durable Streams stream is an engine stream in the configured
// basin, so records written with one protocol read back through the other, S2 lists and deletes it, and
// Durable Streams state (closed, forks) is enforced for S2 callers too.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { append, appendOk, call, expectS2Error, expectStatus, recordsPath, streamObject, uniqueStream } from "./helpers";
import { DS_BASIN, ds, forkRefs } from "./ds-helpers";

const text = { "content-type": "text/plain" };

async function readS2(name: string): Promise<string[]> {
  const body = await expectStatus(await call(`${recordsPath(name)}?seq_num=0`, { basin: DS_BASIN }), 200) as { records: { body: string }[] };
  return body.records.map((record) => record.body);
}

describe("Durable Streams on the engine", () => {
  it("reads S2 appends through Durable Streams and Durable Streams appends through S2, with shared positions", async () => {
    const name = uniqueStream("ds-s2");
    expect((await ds(name, { method: "PUT", headers: text, body: "hello " })).status).toBe(201);
    const ack = await appendOk(DS_BASIN, name, ["from ", "s2"]);
    expect(ack.start.seq_num).toBe(1);

    const res = await ds(name, { method: "POST", headers: text, body: "!" });
    expect(res.status).toBe(204);
    expect(res.headers.get("stream-next-offset")).toBe("0000000000000004_0000000000000000");

    expect(await readS2(name)).toEqual(["hello ", "from ", "s2", "!"]);
    const read = await ds(name, { query: "offset=0000000000000001_0000000000000000" });
    expect(await read.text()).toBe("from s2!");
    expect(read.headers.get("stream-next-offset")).toBe("0000000000000004_0000000000000000");
  });

  it("lists Durable Streams streams in their basin, and an S2 delete removes them", async () => {
    const name = uniqueStream("ds-list");
    expect((await ds(name, { method: "PUT", headers: text })).status).toBe(201);
    const page = await expectStatus(await call(`/streams?prefix=${name}`, { basin: DS_BASIN }), 200) as { streams: { name: string }[] };
    expect(page.streams.map((stream) => stream.name)).toEqual([name]);

    expect((await call(`/streams/${name}`, { method: "DELETE", basin: DS_BASIN })).status).toBe(202);
    expect((await ds(name, { method: "HEAD" })).status).toBe(404);
  });

  it("closes a stream for S2 appends too (409 stream_closed), and reads stay open", async () => {
    const name = uniqueStream("ds-closed");
    expect((await ds(name, { method: "PUT", headers: text, body: "final" })).status).toBe(201);
    const close = await ds(name, { method: "POST", headers: { "stream-closed": "true" } });
    expect(close.status).toBe(204);
    expect(close.headers.get("stream-closed")).toBe("true");

    await expectS2Error(await append(DS_BASIN, name, { records: [{ body: "late" }] }), 409, "stream_closed");
    expect(await readS2(name)).toEqual(["final"]);
  });

  it("serves an S2 stream of the basin as an octet-stream, JSON streams as arrays even of non-JSON records", async () => {
    const s2Made = uniqueStream("s2-made");
    expect((await call("/streams", { method: "POST", basin: DS_BASIN, json: { stream: s2Made } })).status).toBe(201);
    await appendOk(DS_BASIN, s2Made, ["a", "b"]);
    const head = await ds(s2Made, { method: "HEAD" });
    expect(head.headers.get("content-type")).toBe("application/octet-stream");
    expect(head.headers.get("stream-next-offset")).toBe("0000000000000002_0000000000000000");
    expect(await (await ds(s2Made)).text()).toBe("ab");

    const json = uniqueStream("ds-json");
    expect((await ds(json, { method: "PUT", headers: { "content-type": "application/json" }, body: '[{"a":1}]' })).status).toBe(201);
    await appendOk(DS_BASIN, json, ["plain text"]);
    expect(await (await ds(json)).json()).toEqual([{ a: 1 }, "plain text"]);
  });

  it("keeps one reference per live fork on the source, and lets go when the fork is deleted", async () => {
    const source = uniqueStream("ds-src");
    const fork = uniqueStream("ds-fork");
    expect((await ds(source, { method: "PUT", headers: text, body: "abc" })).status).toBe(201);
    const created = await ds(fork, { method: "PUT", headers: { ...text, "stream-forked-from": `/v1/stream/${source}` } });
    expect(created.status).toBe(201);
    expect(await forkRefs(source)).toBe(1);
    // A repeated fork PUT is idempotent and takes no second reference.
    expect((await ds(fork, { method: "PUT", headers: { ...text, "stream-forked-from": `/v1/stream/${source}` } })).status).toBe(200);
    expect(await forkRefs(source)).toBe(1);

    expect((await ds(source, { method: "DELETE" })).status).toBe(204);
    expect((await ds(source)).status).toBe(410);
    expect(await (await ds(fork)).text()).toBe("abc");

    expect((await ds(fork, { method: "DELETE" })).status).toBe(204);
    // The soft-deleted source goes once its last fork does (through its alarm).
    for (let attempt = 0; attempt < 50 && (await ds(source, { method: "HEAD" })).status !== 404; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await ds(source, { method: "HEAD" })).status).toBe(404);
  });
});

describe("forks of a stream that does not exist yet", () => {
  it("answer 404 for a fork of itself instead of waiting on its own create", async () => {
    const name = uniqueStream("ds-self");
    const res = await ds(name, { method: "PUT", headers: { ...text, "stream-forked-from": `/v1/stream/${name}` } });
    expect(res.status).toBe(404);
    expect((await ds(name, { method: "HEAD" })).status).toBe(404);
  });
});

describe("live readers let go", () => {
  const followerSockets = (name: string) =>
    runInDurableObject(streamObject(DS_BASIN, name), (_instance, state) => state.getWebSockets().length);

  it("an SSE reader that goes away closes its follower socket, and so does a long-poll that times out", async () => {
    const name = uniqueStream("ds-letgo");
    expect((await ds(name, { method: "PUT", headers: text, body: "a" })).status).toBe(201);
    const sse = await ds(name, { query: "offset=now&live=sse" });
    const reader = sse.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("event: control");
    await expect.poll(() => followerSockets(name)).toBe(1);
    await reader.cancel();
    await expect.poll(() => followerSockets(name)).toBe(0);

    const poll = await ds(name, { query: "offset=now&live=long-poll" });
    expect(poll.status).toBe(204);
    await expect.poll(() => followerSockets(name)).toBe(0);
  });
});
