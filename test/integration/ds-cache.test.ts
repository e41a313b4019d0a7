// The edge cache of Durable Streams history (DESIGN.md §3): a catch-up read that stops before the tail is
// immutable, so a repeat of it is answered by the Worker's cache and never reaches the stream's object.
import { describe, expect, it } from "vitest";
import { uniqueStream } from "./helpers";
import { ds, lastAccessMs } from "./ds-helpers";

const START = "0000000000000000_0000000000000000";

/** A JSON stream with more messages than one read returns (1000), so a read from the start is history. */
async function longStream(name: string, ttl?: string): Promise<void> {
  const headers: Record<string, string> = { "content-type": "application/json", ...(ttl ? { "stream-ttl": ttl } : {}) };
  expect((await ds(name, { method: "PUT", headers })).status).toBe(201);
  const messages = JSON.stringify(Array.from({ length: 1500 }, (_, i) => ({ i })));
  expect((await ds(name, { method: "POST", headers: { "content-type": "application/json" }, body: messages })).status).toBe(204);
}

/** Repeats a read until the cache answers (its write is not awaited by the first response). */
async function readUntilHit(name: string, query: string): Promise<Response> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await ds(name, { query });
    if (res.headers.get("x-cache") === "HIT") return res;
    await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the cache never answered");
}

describe("edge cache of immutable catch-up reads", () => {
  it("answers a repeated historical read from the cache, without touching the stream's object", async () => {
    const name = uniqueStream("ds-cache");
    await longStream(name, "3600");
    const first = await ds(name, { query: `offset=${START}` });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(first.headers.get("stream-up-to-date")).toBeNull();
    expect(first.headers.get("cache-control")).toMatch(/^public, max-age=60/);
    const body = await first.json() as { i: number }[];
    expect(body.length).toBe(1000);
    const touched = await lastAccessMs(name);

    await new Promise((resolve) => setTimeout(resolve, 5));
    const hit = await readUntilHit(name, `offset=${START}`);
    expect(await hit.json()).toEqual(body);
    expect(hit.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(hit.headers.get("x-content-type-options")).toBe("nosniff");
    // A read that reaches the object moves the sliding TTL; the cached one did not.
    expect(await lastAccessMs(name)).toBe(touched);
  });

  it("answers If-None-Match from the cache with 304", async () => {
    const name = uniqueStream("ds-cache-etag");
    await longStream(name);
    const first = await ds(name, { query: `offset=${START}` });
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    await readUntilHit(name, `offset=${START}`).then((res) => res.arrayBuffer());
    const res = await ds(name, { query: `offset=${START}`, headers: { "if-none-match": etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get("x-cache")).toBe("HIT");
    expect(await res.text()).toBe("");
  });

  it("never answers for a re-created stream from the old one's entries", async () => {
    const name = uniqueStream("ds-cache-recreate");
    await longStream(name);
    await (await ds(name, { query: `offset=${START}` })).arrayBuffer();
    await (await readUntilHit(name, `offset=${START}`)).arrayBuffer();
    expect((await ds(name, { method: "DELETE" })).status).toBe(204);
    expect((await ds(name, { method: "PUT", headers: { "content-type": "application/json" }, body: "[1,2]" })).status).toBe(201);
    const fresh = await ds(name, { query: `offset=${START}` });
    expect(fresh.headers.get("x-cache")).toBeNull();
    expect(await fresh.json()).toEqual([1, 2]);
  });

  it("does not cache reads that reach the tail", async () => {
    const name = uniqueStream("ds-cache-tail");
    expect((await ds(name, { method: "PUT", headers: { "content-type": "text/plain" }, body: "abc" })).status).toBe(201);
    const res = await ds(name, { query: `offset=${START}` });
    expect(await res.text()).toBe("abc");
    expect(res.headers.get("stream-up-to-date")).toBe("true");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-cache")).toBeNull();
  });
});
