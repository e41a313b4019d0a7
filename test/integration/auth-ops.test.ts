// Every S2 operation needs its op (S2-API §6.2): a token holding just that op succeeds, a token holding every
// other op is `403 permission_denied` and changes nothing. Fence and trim command records need `fence` /
// `trim` besides `append`.
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS, type Operation } from "../../src/domain/access";
import { as, expectDenied, issue, tokenId } from "./auth-helpers";
import {
  appendOk, call, createBasin, createStream, expectStatus, recordsPath, tailOf, uniqueBasin, uniqueStream, type Call,
} from "./helpers";

const basin = uniqueBasin("ops");
const stream = uniqueStream();

beforeAll(async () => {
  await createBasin(basin);
  await createStream(basin, stream);
  await appendOk(basin, stream, ["a", "b"]);
});

interface Prepared {
  path: string;
  init?: Call;
  /** After a refusal: proves the request changed nothing. */
  unchanged?: () => Promise<void>;
}

interface Row {
  name: string;
  /** What the allowing token holds. */
  ops: Operation[];
  /** What the refused token lacks (it holds every other op). */
  lacks: Operation;
  status: number;
  prepare: (allowed: boolean) => Promise<Prepared>;
  /** Extra checks on a success. */
  check?: (res: Response) => Promise<void>;
}

const rootStatus = async (path: string, init: Call = {}) => {
  const res = await call(path, init);
  await res.arrayBuffer();
  return res.status;
};

async function freshBasin(): Promise<string> {
  const name = uniqueBasin("opsb");
  await createBasin(name);
  return name;
}

async function freshStream(): Promise<string> {
  const name = uniqueStream("w");
  await createStream(basin, name);
  return name;
}

const stillEmpty = (name: string) => async () => expect(await tailOf(basin, name)).toMatchObject({ seq_num: 0 });
const base64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));

const ROWS: Row[] = [
  { name: "list basins", ops: ["list-basins"], lacks: "list-basins", status: 200, prepare: async () => ({ path: "/basins" }) },
  {
    name: "create basin", ops: ["create-basin"], lacks: "create-basin", status: 201,
    prepare: async () => {
      const name = uniqueBasin("opsc");
      return { path: "/basins", init: { method: "POST", json: { basin: name } }, unchanged: async () => expect(await rootStatus(`/basins/${name}`)).toBe(404) };
    },
  },
  {
    name: "ensure (PUT) a new basin", ops: ["create-basin"], lacks: "create-basin", status: 201,
    prepare: async () => {
      const name = uniqueBasin("opse");
      return { path: `/basins/${name}`, init: { method: "PUT" }, unchanged: async () => expect(await rootStatus(`/basins/${name}`)).toBe(404) };
    },
  },
  { name: "get basin config", ops: ["get-basin-config"], lacks: "get-basin-config", status: 200, prepare: async () => ({ path: `/basins/${basin}` }) },
  {
    name: "reconfigure basin", ops: ["reconfigure-basin"], lacks: "reconfigure-basin", status: 200,
    prepare: async () => ({ path: `/basins/${basin}`, init: { method: "PATCH", json: {} } }),
  },
  {
    name: "delete basin", ops: ["delete-basin"], lacks: "delete-basin", status: 202,
    prepare: async () => {
      const name = await freshBasin();
      return { path: `/basins/${name}`, init: { method: "DELETE" }, unchanged: async () => expect(await rootStatus("/basins?prefix=" + name)).toBe(200) };
    },
  },
  { name: "list streams", ops: ["list-streams"], lacks: "list-streams", status: 200, prepare: async () => ({ path: "/streams", init: { basin } }) },
  {
    name: "create stream", ops: ["create-stream"], lacks: "create-stream", status: 201,
    prepare: async () => {
      const name = uniqueStream("c");
      return { path: "/streams", init: { method: "POST", basin, json: { stream: name } }, unchanged: async () => expect(await rootStatus(`/streams/${name}`, { basin })).toBe(404) };
    },
  },
  {
    name: "ensure (PUT) a new stream", ops: ["create-stream"], lacks: "create-stream", status: 201,
    prepare: async () => {
      const name = uniqueStream("e");
      return { path: `/streams/${name}`, init: { method: "PUT", basin }, unchanged: async () => expect(await rootStatus(`/streams/${name}`, { basin })).toBe(404) };
    },
  },
  { name: "get stream config", ops: ["get-stream-config"], lacks: "get-stream-config", status: 200, prepare: async () => ({ path: `/streams/${stream}`, init: { basin } }) },
  {
    name: "reconfigure stream", ops: ["reconfigure-stream"], lacks: "reconfigure-stream", status: 200,
    prepare: async () => ({ path: `/streams/${stream}`, init: { method: "PATCH", basin, json: {} } }),
  },
  {
    name: "delete stream", ops: ["delete-stream"], lacks: "delete-stream", status: 202,
    prepare: async () => {
      const name = await freshStream();
      return { path: `/streams/${name}`, init: { method: "DELETE", basin }, unchanged: async () => expect(await rootStatus(`/streams/${name}`, { basin })).toBe(200) };
    },
  },
  {
    name: "append", ops: ["append"], lacks: "append", status: 200,
    prepare: async () => {
      const name = await freshStream();
      return { path: recordsPath(name), init: { method: "POST", basin, json: { records: [{ body: "x" }] } }, unchanged: stillEmpty(name) };
    },
  },
  {
    name: "append a fence command", ops: ["append", "fence"], lacks: "fence", status: 200,
    prepare: async () => {
      const name = await freshStream();
      return { path: recordsPath(name), init: { method: "POST", basin, json: { records: [{ headers: [["", "fence"]], body: "tok" }] } }, unchanged: stillEmpty(name) };
    },
  },
  {
    name: "append a trim command", ops: ["append", "trim"], lacks: "trim", status: 200,
    prepare: async () => {
      const name = await freshStream();
      const json = { records: [{ headers: [["", base64([...new TextEncoder().encode("trim")])]], body: base64([0, 0, 0, 0, 0, 0, 0, 0]) }] };
      return { path: recordsPath(name), init: { method: "POST", basin, json, headers: { "s2-format": "base64" } }, unchanged: stillEmpty(name) };
    },
  },
  {
    name: "read (unary JSON)", ops: ["read"], lacks: "read", status: 200,
    prepare: async () => ({ path: `${recordsPath(stream)}?seq_num=0`, init: { basin } }),
    check: async (res) => expect(await res.json()).toMatchObject({ records: [{ body: "a" }, { body: "b" }] }),
  },
  {
    name: "read (SSE)", ops: ["read"], lacks: "read", status: 200,
    prepare: async () => ({ path: `${recordsPath(stream)}?seq_num=0&count=2`, init: { basin, headers: { accept: "text/event-stream" } } }),
    check: async (res) => expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/),
  },
  {
    name: "read (WebSocket upgrade)", ops: ["read"], lacks: "read", status: 101,
    prepare: async () => ({ path: `${recordsPath(stream)}?seq_num=0&count=2&basin=${basin}`, init: { headers: { upgrade: "websocket" } } }),
    check: async (res) => {
      expect(res.webSocket).toBeTruthy();
      res.webSocket!.accept();
      res.webSocket!.close(1000, "test done");
    },
  },
  { name: "check tail", ops: ["check-tail"], lacks: "check-tail", status: 200, prepare: async () => ({ path: `${recordsPath(stream)}/tail`, init: { basin } }) },
  {
    name: "issue access token", ops: ["issue-access-token"], lacks: "issue-access-token", status: 201,
    prepare: async (allowed) => {
      const id = tokenId("child");
      // The child stays within what the issuer holds, so only the op can be missing.
      const json = { id, scope: { access_tokens: { prefix: "" }, ops: [allowed ? "issue-access-token" : "read"] } };
      return { path: "/access-tokens", init: { method: "POST", json }, unchanged: async () => expect(await listedIds(id)).toEqual([]) };
    },
  },
  { name: "list access tokens", ops: ["list-access-tokens"], lacks: "list-access-tokens", status: 200, prepare: async () => ({ path: "/access-tokens" }) },
  {
    name: "revoke access token", ops: ["revoke-access-token"], lacks: "revoke-access-token", status: 204,
    prepare: async () => {
      const id = tokenId("victim");
      await issue({ ops: ["read"] }, { id });
      return { path: `/access-tokens/${id}`, init: { method: "DELETE" }, unchanged: async () => expect(await listedIds(id)).toEqual([id]) };
    },
  },
];

async function listedIds(prefix: string): Promise<string[]> {
  const page = (await expectStatus(await call(`/access-tokens?prefix=${prefix}`), 200)) as { access_tokens: { id: string }[] };
  return page.access_tokens.map((t) => t.id);
}

const ALL_RESOURCES = { basins: { prefix: "" }, streams: { prefix: "" }, access_tokens: { prefix: "" } };

describe.each(ROWS)("$name", (row) => {
  it(`succeeds (${row.status}) with ops ${JSON.stringify(row.ops)} alone`, async () => {
    const token = await issue({ ...ALL_RESOURCES, ops: row.ops });
    const { path, init } = await row.prepare(true);
    const res = await as(token, path, init);
    if (res.status !== row.status) expect({ status: res.status, body: await res.text() }).toMatchObject({ status: row.status });
    if (row.check) await row.check(res);
    else if (res.body) await res.body.cancel();
  });

  it(`is 403 permission_denied without ${row.lacks}, even holding every other op`, async () => {
    const token = await issue({ ...ALL_RESOURCES, ops: OPERATIONS.filter((op) => op !== row.lacks) });
    const { path, init, unchanged } = await row.prepare(false);
    const res = await as(token, path, init);
    if (res.status === 101) res.webSocket?.accept();
    await expectDenied(res, token);
    if (unchanged) await unchanged();
  });
});

describe("command records", () => {
  it("fence or trim alone, without append, cannot append a command", async () => {
    for (const op of ["fence", "trim"] as const) {
      const token = await issue({ ...ALL_RESOURCES, ops: [op] });
      const name = await freshStream();
      await expectDenied(await as(token, recordsPath(name), { method: "POST", basin, json: { records: [{ headers: [["", "fence"]], body: "t" }] } }), token);
      await stillEmpty(name)();
    }
  });

  it("a batch mixing a plain record and a fence needs fence: nothing of it is written", async () => {
    const token = await issue({ ...ALL_RESOURCES, ops: ["append"] });
    const name = await freshStream();
    const json = { records: [{ body: "plain" }, { headers: [["", "fence"]], body: "tok" }] };
    await expectDenied(await as(token, recordsPath(name), { method: "POST", basin, json }), token);
    await stillEmpty(name)();
  });

  it("records with other headers, or a non-empty header name, are plain records", async () => {
    const token = await issue({ ...ALL_RESOURCES, ops: ["append"] });
    const name = await freshStream();
    const json = { records: [{ headers: [["x", "fence"]], body: "a" }, { headers: [["fence", ""]], body: "b" }] };
    await expectStatus(await as(token, recordsPath(name), { method: "POST", basin, json }), 200);
  });
});
