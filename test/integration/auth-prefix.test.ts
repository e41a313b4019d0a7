// auto_prefix_streams (S2-API §6.2): the token's stream prefix is prepended to every stream name it sends
// (path names, the create body, list prefix/start_after) and stripped from names in responses. The root
// token sees the stored, full names.
import { beforeAll, describe, expect, it } from "vitest";
import { as, expectDenied, issue } from "./auth-helpers";
import { appendOk, call, createBasin, createStream, expectStatus, recordsPath, uniqueBasin } from "./helpers";

const basin = uniqueBasin("prefix");
const PREFIX = "tenant-a/";
let token: string;

interface StreamList { streams: { name: string }[]; has_more: boolean }
const listAs = async (t: string | null, query = ""): Promise<StreamList> =>
  (await expectStatus(t ? await as(t, `/streams?${query}`, { basin }) : await call(`/streams?${query}`, { basin }), 200)) as StreamList;
const names = (page: StreamList) => page.streams.map((s) => s.name);

beforeAll(async () => {
  await createBasin(basin);
  // Stored directly by root: one inside the tenant, one next to it that merely looks similar, one elsewhere.
  await createStream(basin, `${PREFIX}seeded`);
  await appendOk(basin, `${PREFIX}seeded`, ["from root"]);
  await createStream(basin, "tenant-a-lookalike");
  await createStream(basin, "other/x");
  token = await issue({
    basins: { exact: basin }, streams: { prefix: PREFIX },
    op_groups: { basin: { read: true, write: true }, stream: { read: true, write: true } },
  }, { auto_prefix_streams: true, literal: true });
});

describe("auto_prefix_streams", () => {
  it("create: the body's name is stored under the prefix; the response shows it without", async () => {
    const res = await as(token, "/streams", { method: "POST", basin, json: { stream: "made" } });
    expect(await expectStatus(res, 201)).toMatchObject({ name: "made" });
    expect(names(await listAs(null, `prefix=${encodeURIComponent(PREFIX)}`))).toContain(`${PREFIX}made`);
    expect(names(await listAs(null))).not.toContain("made");
  });

  it("ensure (PUT): the path name is prefixed; the response shows it without", async () => {
    const res = await as(token, "/streams/ensured", { method: "PUT", basin });
    expect(await expectStatus(res, 201)).toMatchObject({ name: "ensured" });
    await expectStatus(await call(`/streams/${encodeURIComponent(`${PREFIX}ensured`)}`, { basin }), 200);
    await expectStatus(await call("/streams/ensured", { basin }), 404);
  });

  it("append, read and check-tail act on the prefixed stream", async () => {
    await expectStatus(await as(token, "/streams", { method: "POST", basin, json: { stream: "data" } }), 201);
    await expectStatus(await as(token, recordsPath("data"), { method: "POST", basin, json: { records: [{ body: "hello" }] } }), 200);
    const rootRead = await expectStatus(await call(`${recordsPath(`${PREFIX}data`)}?seq_num=0`, { basin }), 200);
    expect(rootRead).toMatchObject({ records: [{ seq_num: 0, body: "hello" }] });
    const tokenRead = await expectStatus(await as(token, `${recordsPath("seeded")}?seq_num=0`, { basin }), 200);
    expect(tokenRead).toMatchObject({ records: [{ seq_num: 0, body: "from root" }] });
    expect(await expectStatus(await as(token, `${recordsPath("seeded")}/tail`, { basin }), 200)).toMatchObject({ tail: { seq_num: 1 } });
  });

  it("get config, reconfigure and delete act on the prefixed stream", async () => {
    await expectStatus(await as(token, "/streams", { method: "POST", basin, json: { stream: "doomed" } }), 201);
    await expectStatus(await as(token, "/streams/doomed", { basin }), 200);
    await expectStatus(await as(token, "/streams/doomed", { method: "PATCH", basin, json: {} }), 200);
    await expectStatus(await as(token, "/streams/doomed", { method: "DELETE", basin }), 202);
    const after = await call(`/streams/${encodeURIComponent(`${PREFIX}doomed`)}`, { basin });
    await after.arrayBuffer();
    expect(after.status).not.toBe(200);
  });

  it("list: only the tenant's streams, names stripped of the prefix", async () => {
    const listed = names(await listAs(token));
    expect(listed).toContain("seeded");
    expect(listed).toContain("made");
    for (const name of listed) expect(name.startsWith(PREFIX)).toBe(false);
    expect(listed).not.toContain("tenant-a-lookalike");
    expect(listed).not.toContain("other/x");
    expect(listed).not.toContain("x");
    // Root sees the full stored names.
    const full = names(await listAs(null));
    expect(full).toEqual(expect.arrayContaining([`${PREFIX}seeded`, `${PREFIX}made`, "tenant-a-lookalike", "other/x"]));
  });

  it("list: prefix and start_after are taken inside the tenant", async () => {
    expect(names(await listAs(token, "prefix=see"))).toEqual(["seeded"]);
    expect(names(await listAs(token, "prefix=tenant-a"))).toEqual([]);
    const all = names(await listAs(token));
    const afterFirst = names(await listAs(token, `start_after=${encodeURIComponent(all[0]!)}`));
    expect(afterFirst).toEqual(all.slice(1));
    const page = await listAs(token, "limit=1");
    expect([names(page), page.has_more]).toEqual([[all[0]], all.length > 1]);
  });

  it("names the token sends are its own: a full stored name is prefixed again", async () => {
    // "tenant-a/seeded" from this token means the stored "tenant-a/tenant-a/seeded", which does not exist.
    const res = await as(token, `${recordsPath(`${PREFIX}seeded`)}?seq_num=0`, { basin });
    await res.arrayBuffer();
    expect(res.status).toBe(404);
    // And it cannot reach streams outside its prefix by any name.
    await expectStatus(await as(token, "/streams/..%2Fother%2Fx", { basin }), 404);
  });

  it("the same scope without auto-prefixing uses names as sent", async () => {
    const plain = await issue({ basins: { exact: basin }, streams: { prefix: PREFIX }, ops: ["read", "create-stream", "list-streams"] }, { literal: true });
    await expectDenied(await as(plain, `${recordsPath("seeded")}?seq_num=0`, { basin }), plain);
    await expectStatus(await as(plain, `${recordsPath(`${PREFIX}seeded`)}?seq_num=0`, { basin }), 200);
    expect(names(await listAs(plain))).toEqual(expect.arrayContaining([`${PREFIX}seeded`, `${PREFIX}made`]));
    await expectDenied(await as(plain, "/streams", { method: "POST", basin, json: { stream: "bare" } }), plain);
  });
});
