// Wire details the SDK hides: exact bodies, headers and status codes (spec §1, §2, §8.5, §10, §14.1).
import { request } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { api, b64, baseUrl, basinName, expectErrorBody, jsonOf, streamName } from "../support/s2";
import { rootAuthorization } from "../support/auth";

let basin: string;

beforeAll(async () => {
  basin = basinName("raw");
  const res = await api("/basins", { method: "POST", json: { basin } });
  expect(res.status).toBe(201);
});

async function newStream(config?: unknown): Promise<string> {
  const stream = streamName("raw");
  const res = await api("/streams", { method: "POST", basin, json: { stream, ...(config ? { config } : {}) } });
  expect(res.status).toBe(201);
  return stream;
}

const records = (stream: string) => `/streams/${encodeURIComponent(stream)}/records`;

async function append(stream: string, input: unknown, format?: string): Promise<Response> {
  return api(records(stream), { method: "POST", basin, json: input, headers: format ? { "s2-format": format } : {} });
}

describe("raw HTTP", () => {
  it("GET /health is 200 OK", async () => {
    const res = await fetch(`${baseUrl()}/health`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe("OK");
  });

  it("raw and base64 JSON record encodings", async () => {
    const stream = await newStream();
    const ack = await append(stream, { records: [{ body: "héllo", headers: [["k", "v"]], timestamp: 5 }] });
    expect(ack.status).toBe(200);
    expect(await jsonOf(ack)).toEqual({
      start: { seq_num: 0, timestamp: 5 },
      end: { seq_num: 1, timestamp: 5 },
      tail: { seq_num: 1, timestamp: 5 },
    });
    const binary = new Uint8Array([0xff, 0xfe, 0x41]);
    const ack2 = await append(stream, { records: [{ body: b64(binary), headers: [[b64("bin"), b64(binary)]], timestamp: 6 }] }, "base64");
    expect(ack2.status).toBe(200);

    const raw = await jsonOf(await api(`${records(stream)}?seq_num=0`, { basin }));
    expect(raw.records).toEqual([
      { seq_num: 0, timestamp: 5, headers: [["k", "v"]], body: "héllo" },
      // raw output decodes bytes as lossy UTF-8 (§8.5).
      { seq_num: 1, timestamp: 6, headers: [["bin", "\uFFFD\uFFFDA"]], body: "\uFFFD\uFFFDA" },
    ]);

    const based = await jsonOf(await api(`${records(stream)}?seq_num=0`, { basin, headers: { "s2-format": "base64" } }));
    expect(based.records).toEqual([
      { seq_num: 0, timestamp: 5, headers: [[b64("k"), b64("v")]], body: b64("héllo") },
      { seq_num: 1, timestamp: 6, headers: [[b64("bin"), b64(binary)]], body: b64(binary) },
    ]);
  });

  it("empty headers and bodies are omitted on output", async () => {
    const stream = await newStream();
    expect((await append(stream, { records: [{}] })).status).toBe(200);
    const out = await jsonOf(await api(`${records(stream)}?seq_num=0`, { basin }));
    expect(out.records).toHaveLength(1);
    expect(Object.keys(out.records[0]).sort()).toEqual(["seq_num", "timestamp"]);
  });

  it("a base64 fence command from the spec example sets the token", async () => {
    const stream = await newStream();
    const res = await append(stream, { records: [{ headers: [["", "ZmVuY2U="]], body: "YWJj" }] }, "base64");
    expect(res.status).toBe(200);
    const bad = await append(stream, { records: [{ body: "x" }], fencing_token: "nope" });
    expect(bad.status).toBe(412);
    expect(await jsonOf(bad)).toEqual({ fencing_token_mismatch: "abc" });
  });

  it("invalid base64 is 422 invalid; an unknown s2-format is 400 bad_header", async () => {
    const stream = await newStream();
    await expectErrorBody(await append(stream, { records: [{ body: "***" }] }, "base64"), 422, "invalid");
    await expectErrorBody(await append(stream, { records: [{ body: "x" }] }, "hex"), 400, "bad_header");
  });

  it("412 bodies carry only the server's current value", async () => {
    const stream = await newStream();
    expect((await append(stream, { records: [{ body: "a" }, { body: "b" }] })).status).toBe(200);
    const seq = await append(stream, { records: [{ body: "c" }], match_seq_num: 0 });
    expect(seq.status).toBe(412);
    expect(await jsonOf(seq)).toEqual({ seq_num_mismatch: 2 });

    expect((await append(stream, { records: [{ body: "tok", headers: [["", "fence"]] }] })).status).toBe(200);
    const fence = await append(stream, { records: [{ body: "c" }], fencing_token: "old" });
    expect(fence.status).toBe(412);
    expect(await jsonOf(fence)).toEqual({ fencing_token_mismatch: "tok" });
  });

  it("416 body is exactly {tail}", async () => {
    const stream = await newStream();
    expect((await append(stream, { records: [{ body: "a", timestamp: 42 }] })).status).toBe(200);
    const res = await api(`${records(stream)}?seq_num=9`, { basin });
    expect(res.status).toBe(416);
    expect(await jsonOf(res)).toEqual({ tail: { seq_num: 1, timestamp: 42 } });
    // No start parameter means "start at the tail", which cannot follow without wait (§10.1, §19.3).
    const noStart = await api(records(stream), { basin });
    expect(noStart.status).toBe(416);
    expect(await jsonOf(noStart)).toEqual({ tail: { seq_num: 1, timestamp: 42 } });
  });

  it("error bodies are {code, message} with the fixed status", async () => {
    await expectErrorBody(await api(`/basins/${basinName("nobody")}`), 404, "basin_not_found");
    await expectErrorBody(await api(`/streams/${streamName()}`, { basin }), 404, "stream_not_found");
    await expectErrorBody(await api("/basins", { method: "POST", json: { basin } }), 409, "resource_already_exists");
    await expectErrorBody(await api("/streams", { basin: "Bad_Basin" }), 400, "bad_header");
    await expectErrorBody(await api("/streams"), 400, "bad_header");
    await expectErrorBody(await api("/basins/x"), 400, "bad_path");
    await expectErrorBody(await api("/basins?limit=-1"), 400, "bad_query");
    await expectErrorBody(await api("/basins", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } }), 400, "bad_json");
    const stream = await newStream();
    await expectErrorBody(await append(stream, { records: [] }), 422, "invalid");
    await expectErrorBody(await append(stream, { records: Array.from({ length: 1001 }, () => ({})) }), 422, "invalid");
    await expectErrorBody(await api(`${records(stream)}?seq_num=0&tail_offset=1`, { basin }), 422, "invalid");
    // The JSON append path requires a JSON content type (§1.5).
    await expectErrorBody(
      await api(records(stream), { method: "POST", basin, body: JSON.stringify({ records: [{}] }), headers: { "content-type": "text/plain" } }),
      400,
      "bad_json",
    );
    await expectErrorBody(
      await api("/basins", { method: "POST", json: { basin: basinName() }, headers: { "s2-request-token": "x".repeat(37) } }),
      400,
      "bad_header",
    );
  });

  it("list limit=0 means the default page size, not an error", async () => {
    const res = await api(`/streams?limit=0&prefix=${encodeURIComponent("raw-")}`, { basin });
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(Array.isArray(body.streams)).toBe(true);
    expect(body.has_more).toBe(false);
  });

  it("s2-provision-result and request-token idempotency on basins", async () => {
    const name = basinName("prov");
    const headers = { "s2-request-token": "raw-token-1" };
    const first = await api("/basins", { method: "POST", json: { basin: name }, headers });
    expect([first.status, first.headers.get("s2-provision-result")]).toEqual([201, "created"]);
    const info = await jsonOf(first);
    expect(info).toMatchObject({ name, deleted_at: null });

    // lite answers a replay with 201 + noop; the cloud with 200 (§14.1).
    const replay = await api("/basins", { method: "POST", json: { basin: name }, headers });
    expect([201, 200]).toContain(replay.status);
    expect(replay.headers.get("s2-provision-result")).toBe("noop");
    expect((await jsonOf(replay)).created_at).toBe(info.created_at);

    const otherConfig = await api("/basins", { method: "POST", json: { basin: name, config: { create_stream_on_read: true } }, headers });
    await expectErrorBody(otherConfig, 409, "resource_already_exists");

    const ensure = await api(`/basins/${name}`, { method: "PUT" });
    expect([ensure.status, ensure.headers.get("s2-provision-result")]).toEqual([200, "noop"]);
    const change = await api(`/basins/${name}`, { method: "PUT", json: { config: { create_stream_on_append: true } } });
    expect([change.status, change.headers.get("s2-provision-result")]).toEqual([200, "updated"]);
    const fresh = await api(`/basins/${basinName("prov-put")}`, { method: "PUT" });
    expect([fresh.status, fresh.headers.get("s2-provision-result")]).toEqual([201, "created"]);
  });

  it("s2-provision-result on streams; PUT takes a bare StreamConfig", async () => {
    const stream = streamName("prov");
    const headers = { "s2-request-token": "raw-stream-token" };
    const first = await api("/streams", { method: "POST", basin, json: { stream }, headers });
    expect([first.status, first.headers.get("s2-provision-result")]).toEqual([201, "created"]);
    const replay = await api("/streams", { method: "POST", basin, json: { stream }, headers });
    expect([replay.status, replay.headers.get("s2-provision-result")]).toEqual([201, "noop"]);

    const put = await api(`/streams/${stream}`, { method: "PUT", basin, json: { storage_class: "standard" } });
    expect([put.status, put.headers.get("s2-provision-result")]).toEqual([200, "updated"]);
    expect(await jsonOf(put)).toMatchObject({ name: stream, deleted_at: null });
    const config = await jsonOf(await api(`/streams/${stream}`, { basin }));
    expect(config.storage_class).toBe("standard");

    const del = await api(`/streams/${stream}`, { method: "DELETE", basin });
    expect(del.status).toBe(202);
    expect(await del.text()).toBe("");
  });

  it("the basin can come from a {basin}.localhost Host header", async () => {
    const stream = await newStream();
    const { port } = new URL(baseUrl());
    const res = await rawGet(`/v1/streams?prefix=${encodeURIComponent(stream)}`, { host: `${basin}.localhost:${port}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).streams.map((s: { name: string }) => s.name)).toEqual([stream]);
  });

  it("GET /ping is an alias of /health", async () => {
    const res = await fetch(`${baseUrl()}/ping`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe("OK");
  });

  it("a timestamp start at or after until is 422 invalid", async () => {
    const stream = await newStream();
    expect((await append(stream, { records: [{ body: "a", timestamp: 10 }] })).status).toBe(200);
    await expectErrorBody(await api(`${records(stream)}?timestamp=50&until=50`, { basin }), 422, "invalid");
  });

  it("a deleted stream name is pending deletion or free again", async () => {
    const stream = await newStream();
    expect((await api(`/streams/${stream}`, { method: "DELETE", basin })).status).toBe(202);
    const again = await api("/streams", { method: "POST", basin, json: { stream } });
    if (again.status === 201) {
      // Cleanup already finished: the name is free and the new stream starts empty.
      expect(await jsonOf(await api(`${records(stream)}/tail`, { basin }))).toEqual({ tail: { seq_num: 0, timestamp: 0 } });
    } else {
      await expectErrorBody(again, 409, "stream_deletion_pending");
    }
  });

  it("account features not served yet answer 501 not_implemented", async () => {
    await expectErrorBody(await api("/locations"), 501, "not_implemented");
  });

  it("unknown paths are 404 and wrong methods 405", async () => {
    expect((await api("/no-such-route")).status).toBe(404);
    expect((await api("/basins", { method: "DELETE" })).status).toBe(405);
  });
});

/** fetch may not set Host, so this goes through node:http to the same socket. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl());
  return new Promise((ok, fail) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: "GET", headers: { ...rootAuthorization, ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", fail);
    req.end();
  });
}
