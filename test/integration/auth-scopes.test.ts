// Resource scopes (S2-API §6.2): basins and streams by exact name or prefix, cross-basin access, op_groups
// united with ops, listings limited to in-scope names, and ensure (PUT) of existing resources.
import { beforeAll, describe, expect, it } from "vitest";
import { as, expectDenied, issue } from "./auth-helpers";
import { appendOk, call, createBasin, createStream, expectStatus, recordsPath, uniqueBasin, uniqueStream } from "./helpers";

// Two basins sharing a prefix and one outside it; streams "logs/…" and others in each.
const tag = uniqueBasin("sc").slice(3);
const mine = `sc-${tag}-mine`;
const mineToo = `sc-${tag}-mine2`;
const theirs = `sx-${tag}-other`;
const logs = "logs/app";
const metrics = "metrics/cpu";

beforeAll(async () => {
  for (const basin of [mine, mineToo, theirs]) {
    await createBasin(basin);
    for (const stream of [logs, "logs/db", metrics]) {
      await createStream(basin, stream);
      await appendOk(basin, stream, [`${basin}:${stream}`]);
    }
  }
});

const read = (token: string, basin: string, stream: string) => as(token, `${recordsPath(stream)}?seq_num=0`, { basin });
const appendAs = (token: string, basin: string, stream: string) =>
  as(token, recordsPath(stream), { method: "POST", basin, json: { records: [{ body: "x" }] } });
const names = (page: unknown, key: "basins" | "streams") => (page as Record<string, { name: string }[]>)[key]!.map((i) => i.name);

async function expectRead(res: Response, basin: string, stream: string): Promise<void> {
  const body = (await expectStatus(res, 200)) as { records: unknown[] };
  expect(body.records[0]).toMatchObject({ seq_num: 0, body: `${basin}:${stream}` });
}

describe("basin scope", () => {
  it("exact: only that basin, for basin and stream operations alike", async () => {
    const token = await issue({ basins: { exact: mine }, streams: { prefix: "" }, ops: ["read", "get-basin-config", "list-streams"] }, { literal: true });
    await expectRead(await read(token, mine, logs), mine, logs);
    await expectStatus(await as(token, `/basins/${mine}`), 200);
    await expectStatus(await as(token, "/streams", { basin: mine }), 200);
    for (const other of [mineToo, theirs]) {
      await expectDenied(await read(token, other, logs), token);
      await expectDenied(await as(token, `/basins/${other}`), token);
      await expectDenied(await as(token, "/streams", { basin: other }), token);
    }
  });

  it("prefix: every basin starting with it, none other", async () => {
    const token = await issue({ basins: { prefix: `sc-${tag}-` }, streams: { prefix: "" }, ops: ["read", "get-basin-config"] }, { literal: true });
    await expectRead(await read(token, mine, logs), mine, logs);
    await expectRead(await read(token, mineToo, logs), mineToo, logs);
    await expectDenied(await read(token, theirs, logs), token);
    await expectDenied(await as(token, `/basins/${theirs}`), token);
  });

  it("absent (none): no basin at all, even with every stream in scope", async () => {
    const token = await issue({ streams: { prefix: "" }, ops: ["read", "get-basin-config"] }, { literal: true });
    await expectDenied(await read(token, mine, logs), token);
    await expectDenied(await as(token, `/basins/${mine}`), token);
  });

  it("create and delete basins only inside the prefix", async () => {
    const token = await issue({ basins: { prefix: `sc-${tag}-new` }, ops: ["create-basin", "delete-basin"] }, { literal: true });
    const inside = `sc-${tag}-new1`;
    const outside = `sx-${tag}-new1`;
    await expectStatus(await as(token, "/basins", { method: "POST", json: { basin: inside } }), 201);
    await expectDenied(await as(token, "/basins", { method: "POST", json: { basin: outside } }), token);
    await expectDenied(await as(token, `/basins/${outside}`, { method: "PUT" }), token);
    await expectStatus(await call(`/basins/${outside}`), 404);
    await expectDenied(await as(token, `/basins/${theirs}`, { method: "DELETE" }), token);
    await expectStatus(await call(`/basins/${theirs}`), 200);
    await expectStatus(await as(token, `/basins/${inside}`, { method: "DELETE" }), 202);
  });
});

describe("stream scope", () => {
  it("exact: only that stream", async () => {
    const token = await issue({ basins: { prefix: "" }, streams: { exact: logs }, ops: ["read", "append"] }, { literal: true });
    await expectRead(await read(token, mine, logs), mine, logs);
    await expectDenied(await read(token, mine, "logs/db"), token);
    await expectDenied(await read(token, mine, "logs"), token);
    await expectDenied(await appendAs(token, mine, metrics), token);
  });

  it("prefix: streams starting with it, in every basin in scope", async () => {
    const token = await issue({ basins: { prefix: `sc-${tag}-` }, streams: { prefix: "logs/" }, ops: ["read", "append", "get-stream-config"] }, { literal: true });
    await expectRead(await read(token, mine, "logs/db"), mine, "logs/db");
    await expectRead(await read(token, mineToo, logs), mineToo, logs);
    await expectStatus(await appendAs(token, mine, logs), 200);
    await expectDenied(await read(token, mine, metrics), token);
    await expectDenied(await as(token, `/streams/${encodeURIComponent(metrics)}`, { basin: mine }), token);
    await expectDenied(await appendAs(token, mine, metrics), token);
  });

  it("cross-basin: an in-scope stream name in an out-of-scope basin is 403", async () => {
    const token = await issue({ basins: { exact: mine }, streams: { prefix: "logs/" }, ops: ["read", "append", "check-tail"] }, { literal: true });
    await expectDenied(await read(token, theirs, logs), token);
    await expectDenied(await appendAs(token, theirs, logs), token);
    await expectDenied(await as(token, `${recordsPath(logs)}/tail`, { basin: theirs }), token);
    // The s2-basin header decides: the same path works for the basin in scope.
    await expectStatus(await as(token, `${recordsPath(logs)}/tail`, { basin: mine }), 200);
  });

  it("create-stream checks the name from the body against the scope", async () => {
    const token = await issue({ basins: { exact: mine }, streams: { prefix: "logs/" }, ops: ["create-stream"] }, { literal: true });
    const ok = `logs/${uniqueStream()}`;
    const bad = `other/${uniqueStream()}`;
    await expectStatus(await as(token, "/streams", { method: "POST", basin: mine, json: { stream: ok } }), 201);
    await expectDenied(await as(token, "/streams", { method: "POST", basin: mine, json: { stream: bad } }), token);
    await expectDenied(await as(token, `/streams/${encodeURIComponent(bad)}`, { method: "PUT", basin: mine }), token);
    await expectStatus(await call(`/streams/${encodeURIComponent(bad)}`, { basin: mine }), 404);
  });
});

describe("op_groups and ops", () => {
  it("the effective ops are the union of both", async () => {
    const token = await issue({ op_groups: { stream: { read: true } }, ops: ["append"] });
    await expectRead(await read(token, mine, logs), mine, logs);
    await expectStatus(await as(token, `${recordsPath(logs)}/tail`, { basin: mine }), 200);
    await expectStatus(await as(token, `/streams/${encodeURIComponent(logs)}`, { basin: mine }), 200);
    await expectStatus(await appendAs(token, mine, logs), 200);
    await expectDenied(await as(token, recordsPath(logs), { method: "POST", basin: mine, json: { records: [{ headers: [["", "fence"]], body: "" }] } }), token);
    await expectDenied(await as(token, `/streams/${encodeURIComponent(logs)}`, { method: "PATCH", basin: mine, json: {} }), token);
    await expectDenied(await as(token, "/streams", { basin: mine }), token);
  });

  it("each group grants its own level and mode only", async () => {
    const accountRead = await issue({ op_groups: { account: { read: true } } });
    await expectStatus(await as(accountRead, "/basins"), 200);
    await expectStatus(await as(accountRead, "/access-tokens"), 200);
    await expectDenied(await as(accountRead, "/basins", { method: "POST", json: { basin: uniqueBasin("grp") } }), accountRead);
    await expectDenied(await as(accountRead, `/basins/${mine}`), accountRead);

    const basinRead = await issue({ op_groups: { basin: { read: true } } });
    await expectStatus(await as(basinRead, `/basins/${mine}`), 200);
    await expectStatus(await as(basinRead, "/streams", { basin: mine }), 200);
    await expectDenied(await as(basinRead, "/basins"), basinRead);
    await expectDenied(await as(basinRead, `/streams/${encodeURIComponent(logs)}`, { basin: mine }), basinRead);

    const basinWrite = await issue({ op_groups: { basin: { write: true } } });
    const created = uniqueStream("grp");
    await expectStatus(await as(basinWrite, "/streams", { method: "POST", basin: mine, json: { stream: created } }), 201);
    await expectStatus(await as(basinWrite, `/streams/${created}`, { method: "DELETE", basin: mine }), 202);
    await expectDenied(await as(basinWrite, `/basins/${mine}`, { method: "PATCH", json: {} }), basinWrite);

    const streamWrite = await issue({ op_groups: { stream: { write: true } } });
    await expectStatus(await appendAs(streamWrite, mine, "logs/db"), 200);
    await expectDenied(await read(streamWrite, mine, logs), streamWrite);
    await expectDenied(await as(streamWrite, `${recordsPath(logs)}/tail`, { basin: mine }), streamWrite);
  });
});

describe("listings show only in-scope names", () => {
  it("list basins", async () => {
    const token = await issue({ basins: { prefix: `sc-${tag}-mine` }, ops: ["list-basins"] }, { literal: true });
    expect(names(await expectStatus(await as(token, `/basins?prefix=s`), 200), "basins")).toEqual([mine, mineToo]);
    const exact = await issue({ basins: { exact: mineToo }, ops: ["list-basins"] }, { literal: true });
    expect(names(await expectStatus(await as(exact, `/basins?prefix=s`), 200), "basins")).toEqual([mineToo]);
    const none = await issue({ ops: ["list-basins"] }, { literal: true });
    expect(names(await expectStatus(await as(none, `/basins?prefix=s`), 200), "basins")).toEqual([]);
    expect(names(await expectStatus(await call(`/basins?prefix=s${tag.slice(0, 0)}`), 200), "basins")).toEqual(expect.arrayContaining([mine, mineToo, theirs]));
  });

  it("list streams", async () => {
    const token = await issue({ basins: { exact: mine }, streams: { prefix: "logs/" }, ops: ["list-streams"] }, { literal: true });
    const listed = names(await expectStatus(await as(token, "/streams", { basin: mine }), 200), "streams");
    expect(listed).toContain(logs);
    expect(listed).toContain("logs/db");
    expect(listed.every((n) => n.startsWith("logs/"))).toBe(true);
    expect(names(await expectStatus(await call("/streams", { basin: mine }), 200), "streams")).toContain(metrics);
  });

  it("a filtered page still holds `limit` visible names and an honest has_more (basins)", async () => {
    const token = await issue({ basins: { exact: mineToo }, ops: ["list-basins"] }, { literal: true });
    // `mine` sorts before `mineToo` but is out of scope.
    const page = (await expectStatus(await as(token, `/basins?prefix=sc-${tag}-&limit=1`), 200)) as { basins: { name: string }[]; has_more: boolean };
    expect({ names: page.basins.map((b) => b.name), has_more: page.has_more }).toEqual({ names: [mineToo], has_more: false });
  });

  it("a filtered page still holds `limit` visible names and an honest has_more (streams)", async () => {
    const token = await issue({ basins: { exact: theirs }, streams: { prefix: "metrics/" }, ops: ["list-streams"] }, { literal: true });
    // "logs/app" and "logs/db" sort before "metrics/cpu" and are out of scope.
    const page = (await expectStatus(await as(token, "/streams?limit=1", { basin: theirs }), 200)) as { streams: { name: string }[]; has_more: boolean };
    expect({ names: page.streams.map((s) => s.name), has_more: page.has_more }).toEqual({ names: [metrics], has_more: false });
  });
});

describe("ensure (PUT) of an existing resource", () => {
  // S2-API §6.2: "PUT ensure … needs create-* when it creates and presumably reconfigure-* when it updates".
  it("create-stream alone may not change an existing stream's config (that is reconfigure-stream)", async () => {
    const name = uniqueStream("ens");
    await createStream(mine, name);
    const token = await issue({ ops: ["create-stream"] });
    const res = await as(token, `/streams/${name}`, { method: "PUT", basin: mine, json: { retention_policy: { age: 3600 } } });
    const after = (await expectStatus(await call(`/streams/${name}`, { basin: mine }), 200)) as { retention_policy?: unknown };
    expect({ status: res.status, provision: res.headers.get("s2-provision-result"), retention: after.retention_policy })
      .toEqual({ status: 403, provision: null, retention: expect.not.objectContaining({ age: 3600 }) });
  });

  it("create-basin alone may not change an existing basin's config (that is reconfigure-basin)", async () => {
    const token = await issue({ ops: ["create-basin"] });
    const res = await as(token, `/basins/${mineToo}`, { method: "PUT", json: { config: { create_stream_on_append: true } } });
    const after = (await expectStatus(await call(`/basins/${mineToo}`), 200)) as { create_stream_on_append?: boolean };
    expect({ status: res.status, provision: res.headers.get("s2-provision-result"), createOnAppend: after.create_stream_on_append ?? false })
      .toEqual({ status: 403, provision: null, createOnAppend: false });
  });

  it("reconfigure-stream alone may converge an existing stream with PUT", async () => {
    const name = uniqueStream("ens");
    await createStream(mine, name);
    const token = await issue({ ops: ["reconfigure-stream"] });
    await expectStatus(await as(token, `/streams/${name}`, { method: "PUT", basin: mine, json: { retention_policy: { age: 7200 } } }), 200);
  });
});
