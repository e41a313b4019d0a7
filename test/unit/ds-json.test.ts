import { describe, expect, it } from "vitest";
import { parseJsonMessages, renderJsonArray } from "../../src/protocol/ds/json";
import { recordBodies } from "../../src/domain/lifecycle";
import { fromUtf8Lossy, utf8 } from "../../src/lib/bytes";
import { unwrap, unwrapErr } from "./support";

const messages = (text: string) => unwrap(parseJsonMessages(utf8(text))).map(fromUtf8Lossy);

describe("JSON mode flattening (PROTOCOL.md §9.1.2)", () => {
  it("flattens exactly one level of array", () => {
    expect(messages('[{"a":1},{"b":2}]')).toEqual(['{"a":1}', '{"b":2}']);
    expect(messages("[[1,2],[3,4]]")).toEqual(["[1,2]", "[3,4]"]);
    expect(messages("[[[1,2,3]]]")).toEqual(["[[1,2,3]]"]);
  });

  it("takes any other value as one message, stored compactly", () => {
    expect(messages('{ "a" : [ 1, 2 ] }')).toEqual(['{"a":[1,2]}']);
    expect(messages("42")).toEqual(["42"]);
    expect(messages('"s"')).toEqual(['"s"']);
    expect(messages("null")).toEqual(["null"]);
  });

  it("turns an empty array into no messages and invalid JSON into bad_json", () => {
    expect(messages("[]")).toEqual([]);
    expect(unwrapErr(parseJsonMessages(utf8("{"))).code).toBe("bad_json");
    expect(unwrapErr(parseJsonMessages(new Uint8Array([0x5b, 0xff, 0x5d]))).code).toBe("bad_json");
  });

  it("reads back as one array of the messages", () => {
    const bodies = unwrap(parseJsonMessages(utf8('[{"a":1},[2],"x"]')));
    expect(JSON.parse(renderJsonArray(bodies))).toEqual([{ a: 1 }, [2], "x"]);
  });
});

describe("record bodies of an appended body", () => {
  const json = (text: string) => ({ bytes: utf8(text), messages: parseJsonMessages(utf8(text)) });

  it("is one record for byte streams, none for an empty body", () => {
    expect(unwrap(recordBodies({ bytes: utf8("[1,2]") }, "text/plain", "reject")).length).toBe(1);
    expect(unwrap(recordBodies({ bytes: new Uint8Array() }, "application/octet-stream", "reject"))).toEqual([]);
  });

  it("is one record per message in JSON mode; `[]` creates an empty stream on PUT but is refused on POST", () => {
    expect(unwrap(recordBodies(json("[1,2,3]"), "application/json; charset=utf-8", "reject")).length).toBe(3);
    expect(unwrap(recordBodies(json("[]"), "application/json", "allow"))).toEqual([]);
    expect(unwrapErr(recordBodies(json("[]"), "application/json", "reject")).code).toBe("bad_json");
    expect(unwrapErr(recordBodies(json("{"), "application/json", "allow")).code).toBe("bad_json");
  });
});
