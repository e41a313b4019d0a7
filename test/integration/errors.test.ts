// Every rejection goes out as S2's JSON error with the status fixed by its code (S2-API §2, §1.4–1.5, §3,
// §8.4, §10.1), and none of them touches stored data: after each test the stream's SQLite is as it was.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  append, call, createBasin, createStream, expectS2Error, recordsPath, storedState, tailOf, uniqueBasin, uniqueStream,
  type StoredState,
} from "./helpers";

const basin = uniqueBasin("errors");
const stream = uniqueStream();
const records = recordsPath(stream);
let baseline: StoredState;

beforeAll(async () => {
  await createBasin(basin);
  await createStream(basin, stream);
  await append(basin, stream, { records: [{ body: "one" }, { body: "two" }] });
  baseline = await storedState(basin, stream);
  expect(baseline).toMatchObject({ metaRows: 1, batchRows: 1, tail: { seq_num: 2 } });
});

afterEach(async () => {
  expect(await storedState(basin, stream)).toEqual(baseline);
  expect(await tailOf(basin, stream)).toEqual(baseline.tail);
});

const MIB2 = 2 * 1024 * 1024;
const postRecords = (raw: BodyInit, headers: Record<string, string> = {}) =>
  call(records, { method: "POST", basin, raw, headers });

describe("400 bad_json", () => {
  it("for unparsable JSON on append, basin create and stream create", async () => {
    await expectS2Error(await postRecords('{"records": [', { "content-type": "application/json" }), 400, "bad_json");
    await expectS2Error(await call("/basins", { method: "POST", raw: "{nope", headers: { "content-type": "application/json" } }), 400, "bad_json");
    await expectS2Error(await call("/streams", { method: "POST", basin, raw: "[", headers: { "content-type": "application/json" } }), 400, "bad_json");
  });

  it("for JSON of the wrong shape (records not an array, header not a pair, negative number)", async () => {
    await expectS2Error(await append(basin, stream, { records: "x" }), 400, "bad_json");
    await expectS2Error(await append(basin, stream, { records: [{ headers: [["only-name"]] }] }), 400, "bad_json");
    await expectS2Error(await append(basin, stream, { records: [{ body: "x" }], match_seq_num: -1 }), 400, "bad_json");
  });

  it("for a missing or non-JSON content type on append", async () => {
    const body = new TextEncoder().encode(JSON.stringify({ records: [{ body: "x" }] }));
    await expectS2Error(await postRecords(body), 400, "bad_json");
    await expectS2Error(await postRecords(body, { "content-type": "text/plain" }), 400, "bad_json");
  });

  it("for an invalid name inside a JSON body", async () => {
    await expectS2Error(await call("/streams", { method: "POST", basin, json: { stream: ".." } }), 400, "bad_json");
    await expectS2Error(await call("/basins", { method: "POST", json: { basin: "Not_A_Basin" } }), 400, "bad_json");
  });

  it("for a body over 2 MiB, with or without a content-length", async () => {
    const big = JSON.stringify({ records: [{ body: "a".repeat(MIB2) }] });
    await expectS2Error(await postRecords(big, { "content-type": "application/json" }), 400, "bad_json");
    const streamed = new Blob([big]).stream();
    await expectS2Error(await postRecords(streamed, { "content-type": "application/json" }), 400, "bad_json");
    const basinBody = JSON.stringify({ basin: uniqueBasin("big"), pad: "x".repeat(MIB2) });
    await expectS2Error(await call("/basins", { method: "POST", raw: basinBody, headers: { "content-type": "application/json" } }), 400, "bad_json");
  });
});

describe("400 bad_header", () => {
  it("for an unknown s2-format", async () => {
    await expectS2Error(await append(basin, stream, { records: [{ body: "x" }] }, { "s2-format": "hex" }), 400, "bad_header");
    await expectS2Error(await call(`${records}?seq_num=0`, { basin, headers: { "s2-format": "Base64" } }), 400, "bad_header");
  });

  it("for a missing or invalid s2-basin, checked before path and query", async () => {
    await expectS2Error(await call(records, { method: "POST", json: { records: [{ body: "x" }] } }), 400, "bad_header");
    await expectS2Error(await call(`${records}/tail`), 400, "bad_header");
    await expectS2Error(await call("/streams?limit=oops"), 400, "bad_header");
    await expectS2Error(await call(`${records}/tail`, { basin: "BAD" }), 400, "bad_header");
  });

  it("for an s2-request-token over 36 bytes", async () => {
    const headers = { "s2-request-token": "t".repeat(37) };
    await expectS2Error(await call("/streams", { method: "POST", basin, json: { stream: uniqueStream() }, headers }), 400, "bad_header");
    await expectS2Error(await call("/basins", { method: "POST", json: { basin: uniqueBasin("tok") }, headers }), 400, "bad_header");
  });
});

describe("400 bad_path", () => {
  it("for an invalid stream name in the path", async () => {
    // `..` itself cannot be sent: URL parsing resolves `..` and `%2E%2E` segments before any handler runs.
    const tooLong = "s".repeat(513);
    await expectS2Error(await call(recordsPath(tooLong), { method: "POST", basin, json: { records: [{ body: "x" }] } }), 400, "bad_path");
    await expectS2Error(await call(`${recordsPath(tooLong)}/tail`, { basin }), 400, "bad_path");
    await expectS2Error(await call(`/streams/${tooLong}`, { basin }), 400, "bad_path");
    await expectS2Error(await call(`/streams/${tooLong}`, { method: "DELETE", basin }), 400, "bad_path");
  });

  it("for an invalid basin name in the path", async () => {
    for (const name of ["UPPER-case", "short", "-leading-hyphen", "x".repeat(49)]) {
      await expectS2Error(await call(`/basins/${name}`), 400, "bad_path");
      await expectS2Error(await call(`/basins/${name}`, { method: "PUT" }), 400, "bad_path");
      await expectS2Error(await call(`/basins/${name}`, { method: "PATCH", json: {} }), 400, "bad_path");
      await expectS2Error(await call(`/basins/${name}`, { method: "DELETE" }), 400, "bad_path");
    }
  });
});

describe("400 bad_proto", () => {
  it("for an undecodable protobuf AppendInput", async () => {
    const headers = { "content-type": "application/protobuf" };
    // Field 1 (records), length-delimited, claims 5 bytes but carries 1.
    await expectS2Error(await postRecords(new Uint8Array([0x0a, 0x05, 0x01]), headers), 400, "bad_proto");
    await expectS2Error(await postRecords(new Uint8Array([0xff, 0xff, 0xff, 0xff]), headers), 400, "bad_proto");
  });

  it("for a protobuf body over 2 MiB", async () => {
    const res = await postRecords(new Uint8Array(MIB2 + 1), { "content-type": "application/protobuf" });
    await expectS2Error(res, 400, "bad_proto");
  });
});

describe("400 bad_query", () => {
  it("for unparsable read parameters", async () => {
    for (const query of ["seq_num=abc", "seq_num=-1", "count=1.5", "wait=soon", "clamp=maybe", "tail_offset="]) {
      await expectS2Error(await call(`${records}?${query}`, { basin }), 400, "bad_query");
    }
  });

  it("for invalid list parameters", async () => {
    await expectS2Error(await call("/streams?limit=-1", { basin }), 400, "bad_query");
    await expectS2Error(await call(`/streams?prefix=${"p".repeat(513)}`, { basin }), 400, "bad_query");
    await expectS2Error(await call("/basins?prefix=Upper"), 400, "bad_query");
    await expectS2Error(await call("/basins?limit=many"), 400, "bad_query");
  });
});

describe("422 invalid", () => {
  it("for two read starts, or a timestamp start at or past until", async () => {
    await expectS2Error(await call(`${records}?seq_num=0&tail_offset=1`, { basin }), 422, "invalid");
    await expectS2Error(await call(`${records}?seq_num=0&timestamp=0`, { basin }), 422, "invalid");
    await expectS2Error(await call(`${records}?timestamp=5&until=5`, { basin }), 422, "invalid");
  });

  it("for semantic append violations (bad base64, oversized fencing token, retention age 0)", async () => {
    await expectS2Error(await append(basin, stream, { records: [{ body: "!!" }] }, { "s2-format": "base64" }), 422, "invalid");
    await expectS2Error(await append(basin, stream, { records: [{ body: "x" }], fencing_token: "f".repeat(37) }), 422, "invalid");
    const big = { records: [{ body: "a".repeat(1024 * 1024) }] };
    await expectS2Error(await append(basin, stream, big), 422, "invalid");
    await expectS2Error(await call(`/streams/${stream}`, { method: "PATCH", basin, json: { retention_policy: { age: 0 } } }), 422, "invalid");
  });
});

describe("error body shape", () => {
  it("is JSON {code, message} and nothing else, for errors from the edge and from objects", async () => {
    const edge = await expectS2Error(await call(`${records}?seq_num=x`, { basin }), 400, "bad_query");
    expect(Object.keys(edge).sort()).toEqual(["code", "message"]);
    const object = await expectS2Error(await call(`${recordsPath(uniqueStream("ghost"))}/tail`, { basin }), 404, "stream_not_found");
    expect(Object.keys(object).sort()).toEqual(["code", "message"]);
  });
});
