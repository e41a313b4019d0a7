import { describe, expect, it } from "vitest";
import { commandRecord } from "../../src/domain/commands";
import type { SequencedRecord } from "../../src/domain/types";
import { utf8 } from "../../src/lib/bytes";
import { parseAppendInput, parseRecordFormat, renderAppendAck, renderReadBatch } from "../../src/protocol/s2/json-records";
import { bytes, unwrap, unwrapErr } from "./support";

// S2-API §8.5.
const parse = (body: unknown, format: "raw" | "base64" = "raw") => parseAppendInput(body, format);
const code = (body: unknown, format: "raw" | "base64" = "raw") => unwrapErr(parse(body, format)).code;
const seqRec = (seqNum: number, headers: SequencedRecord["headers"], body: Uint8Array, timestamp = 7): SequencedRecord => ({
  seqNum,
  timestamp,
  headers,
  body,
});

describe("parseRecordFormat (S2-API §1.4)", () => {
  it("maps the formats and lite's aliases", () => {
    const names = ["raw", "json", "base64", "json-binsafe"];
    expect(names.map(parseRecordFormat)).toEqual(["raw", "raw", "base64", "base64"]);
  });

  it("knows nothing else, not even names on Object.prototype", () => {
    for (const name of ["RAW", "", "constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(parseRecordFormat(name), name).toBeUndefined();
    }
  });
});

describe("parseAppendInput: raw", () => {
  it("stores the UTF-8 bytes of strings", () => {
    const input = unwrap(parse({ records: [{ headers: [["k", "välue"]], body: "héllo 😀" }] }));
    expect(input.records).toEqual([{ headers: [[utf8("k"), utf8("välue")]], body: utf8("héllo 😀") }]);
  });

  it("treats missing and null fields as none", () => {
    const input = unwrap(parse({ records: [{}, { headers: null, body: null, timestamp: null }] }));
    expect(input.records).toEqual([{ headers: [], body: new Uint8Array() }, { headers: [], body: new Uint8Array() }]);
    expect(input.records[0]).not.toHaveProperty("timestamp");
    expect(input).not.toHaveProperty("matchSeqNum");
    expect(input).not.toHaveProperty("fencingToken");
  });

  it("keeps timestamps, match_seq_num 0 and the empty fencing token", () => {
    const input = unwrap(parse({ records: [{ timestamp: 0 }, { timestamp: 12345 }], match_seq_num: 0, fencing_token: "" }));
    expect(input.records.map((r) => r.timestamp)).toEqual([0, 12345]);
    expect(input.matchSeqNum).toBe(0);
    expect(input.fencingToken).toBe("");
  });

  it("does not base64-decode in raw mode, and never decodes the fencing token", () => {
    const input = unwrap(parse({ records: [{ body: "QQ==" }], fencing_token: "QQ==" }));
    expect(input.records[0]!.body).toEqual(utf8("QQ=="));
    expect(input.fencingToken).toBe("QQ==");
  });

  it("ignores unknown fields", () => {
    expect(unwrap(parse({ records: [{ body: "a", extra: 1 }], whatever: true })).records).toHaveLength(1);
  });

  it("parses an empty records array (the domain rejects it later)", () => {
    expect(unwrap(parse({ records: [] })).records).toEqual([]);
  });
});

describe("parseAppendInput: base64", () => {
  it("decodes headers and bodies, keeps the fencing token as plain text", () => {
    const input = unwrap(parse({ records: [{ headers: [["", "dHJpbQ=="]], body: "AAAAAAAAAAo=" }], fencing_token: "tok" }, "base64"));
    expect(input.records[0]).toEqual(commandRecord({ kind: "trim", trimPoint: 10 }));
    expect(input.fencingToken).toBe("tok");
  });

  it("decodes binary bytes", () => {
    const input = unwrap(parse({ records: [{ headers: [["/w==", ""]], body: "AP+A" }] }, "base64"));
    expect(input.records[0]).toEqual({ headers: [[bytes(0xff), bytes()]], body: bytes(0x00, 0xff, 0x80) });
  });

  it("rejects invalid base64 with invalid (422)", () => {
    expect(code({ records: [{ body: "QQ" }] }, "base64")).toBe("invalid");
    expect(code({ records: [{ body: "not base64!" }] }, "base64")).toBe("invalid");
    expect(code({ records: [{ headers: [["QQ==", "Q"]] }] }, "base64")).toBe("invalid");
    expect(code({ records: [{ body: "@@@@" }] }, "base64")).toBe("invalid");
  });
});

describe("parseAppendInput: wrong shapes are bad_json (400)", () => {
  const cases: [string, unknown][] = [
    ["body not an object", []],
    ["body null", null],
    ["records missing", {}],
    ["records not an array", { records: {} }],
    ["record not an object", { records: ["x"] }],
    ["header as object", { records: [{ headers: [{ name: "k", value: "v" }] }] }],
    ["headers not an array", { records: [{ headers: { k: "v" } }] }],
    ["header with one element", { records: [{ headers: [["k"]] }] }],
    ["header with three elements", { records: [{ headers: [["k", "v", "x"]] }] }],
    ["header name a number", { records: [{ headers: [[1, "v"]] }] }],
    ["body a number", { records: [{ body: 5 }] }],
    ["body an array of bytes", { records: [{ body: [1, 2] }] }],
    ["negative timestamp", { records: [{ timestamp: -1 }] }],
    ["fractional timestamp", { records: [{ timestamp: 1.5 }] }],
    ["string timestamp", { records: [{ timestamp: "5" }] }],
    ["string match_seq_num", { records: [{}], match_seq_num: "5" }],
    ["negative match_seq_num", { records: [{}], match_seq_num: -1 }],
    ["numeric fencing token", { records: [{}], fencing_token: 5 }],
  ];
  for (const [name, body] of cases) {
    it(name, () => {
      expect(code(body)).toBe("bad_json");
    });
  }

  it("wrong types are bad_json in base64 mode too", () => {
    expect(code({ records: [{ body: 5 }] }, "base64")).toBe("bad_json");
    expect(code({ records: [{ headers: [["QQ=="]] }] }, "base64")).toBe("bad_json");
  });
});

describe("renderReadBatch", () => {
  it("omits empty headers and body, and tail when absent", () => {
    expect(renderReadBatch({ records: [seqRec(3, [], new Uint8Array())] }, "raw")).toEqual({ records: [{ seq_num: 3, timestamp: 7 }] });
  });

  it("renders headers as [name, value] arrays and includes tail when present", () => {
    const batch = { records: [seqRec(0, [[utf8("a"), utf8("b")], [utf8("a"), utf8("")]], utf8("x"))], tail: { seqNum: 1, timestamp: 9 } };
    expect(renderReadBatch(batch, "raw")).toEqual({
      records: [{ seq_num: 0, timestamp: 7, headers: [["a", "b"], ["a", ""]], body: "x" }],
      tail: { seq_num: 1, timestamp: 9 },
    });
  });

  it("renders command records as in §8.5's examples", () => {
    const fence = commandRecord({ kind: "fence", token: "abc" });
    const trim = commandRecord({ kind: "trim", trimPoint: 10 });
    const emptyFence = commandRecord({ kind: "fence", token: "" });
    const records = [seqRec(0, fence.headers, fence.body), seqRec(1, trim.headers, trim.body), seqRec(2, emptyFence.headers, emptyFence.body)];
    expect(renderReadBatch({ records }, "base64").records).toEqual([
      { seq_num: 0, timestamp: 7, headers: [["", "ZmVuY2U="]], body: "YWJj" },
      { seq_num: 1, timestamp: 7, headers: [["", "dHJpbQ=="]], body: "AAAAAAAAAAo=" },
      { seq_num: 2, timestamp: 7, headers: [["", "ZmVuY2U="]] },
    ]);
    expect(renderReadBatch({ records: records.slice(0, 1) }, "raw").records).toEqual([
      { seq_num: 0, timestamp: 7, headers: [["", "fence"]], body: "abc" },
    ]);
  });

  it("decodes raw output lossily", () => {
    const batch = { records: [seqRec(0, [[bytes(0xff), bytes(0x61, 0xc3)]], bytes(0x68, 0x69, 0xff))] };
    expect(renderReadBatch(batch, "raw").records).toEqual([{ seq_num: 0, timestamp: 7, headers: [["\uFFFD", "a\uFFFD"]], body: "hi\uFFFD" }]);
  });

  it("round-trips binary data through base64", () => {
    const body = Uint8Array.from({ length: 256 }, (_, i) => i);
    const rendered = renderReadBatch({ records: [seqRec(0, [[bytes(0), bytes(0xff)]], body)] }, "base64");
    const [record] = rendered.records as { headers: [string, string][]; body: string }[];
    const input = unwrap(parse({ records: [{ headers: record!.headers, body: record!.body }] }, "base64"));
    expect(input.records[0]).toEqual({ headers: [[bytes(0), bytes(0xff)]], body });
  });
});

describe("renderAppendAck", () => {
  it("renders start, end and tail positions in snake case", () => {
    const ack = { start: { seqNum: 1, timestamp: 2 }, end: { seqNum: 3, timestamp: 4 }, tail: { seqNum: 5, timestamp: 6 } };
    expect(renderAppendAck(ack)).toEqual({
      start: { seq_num: 1, timestamp: 2 },
      end: { seq_num: 3, timestamp: 4 },
      tail: { seq_num: 5, timestamp: 6 },
    });
  });
});
