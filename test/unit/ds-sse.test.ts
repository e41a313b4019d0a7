import { describe, expect, it } from "vitest";
import { isSseBase64, renderReadBody, renderSsePayload } from "../../src/protocol/ds/body";
import { renderControlEvent, renderDataEvent } from "../../src/protocol/ds/sse";
import { commandRecord } from "../../src/domain/commands";
import { fromUtf8Lossy, utf8 } from "../../src/lib/bytes";

const rec = (seqNum: number, body: string | Uint8Array) =>
  ({ seqNum, timestamp: 0, headers: [], body: typeof body === "string" ? utf8(body) : body });

/** Events as an SSE client parses them: blank-line separated, data lines joined with LF, one leading space stripped. */
function parse(text: string): { type: string; data: string }[] {
  return text.replace(/\r\n|\r/g, "\n").split("\n\n").filter((block) => block.trim()).map((block) => {
    let type = "";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).startsWith(" ") ? line.slice(6) : line.slice(5));
    }
    return { type, data: data.join("\n") };
  });
}

describe("SSE events (PROTOCOL.md §5.8)", () => {
  it("writes `event: data` and `data:` right before the line, doubling a leading space so parsers keep it", () => {
    expect(renderDataEvent("line1\nline2")).toBe("event: data\ndata:line1\ndata:line2\n\n");
    expect(renderDataEvent(" hi")).toBe("event: data\ndata:  hi\n\n");
    expect(parse(renderDataEvent(" hi\n  two"))).toEqual([{ type: "data", data: " hi\n  two" }]);
  });

  it("splits CRLF, CR and LF into data lines, so payload text can neither end nor forge an event", () => {
    for (const payload of ["a\r\n\r\nevent: control\r\ndata: {\"x\":1}\r\n\r\nb", "a\n\nevent: data\ndata: fake\n\nb", "a\r\revent: control\rb"]) {
      const events = parse(renderDataEvent(payload) + renderControlEvent({ streamNextOffset: "o" }));
      expect(events.map((event) => event.type)).toEqual(["data", "control"]);
      expect(events[0]!.data).toBe(payload.replace(/\r\n|\r/g, "\n"));
    }
  });

  it("renders a zero-length payload as one empty data line", () => {
    expect(renderDataEvent("")).toBe("event: data\ndata:\n\n");
  });

  it("puts the whole control JSON on one line after `data:`", () => {
    const text = renderControlEvent({ streamNextOffset: "0000000000000001_0000000000000000", streamCursor: "7", upToDate: true });
    expect(text).toBe('event: control\ndata:{"streamNextOffset":"0000000000000001_0000000000000000","streamCursor":"7","upToDate":true}\n\n');
  });
});

describe("payloads of Durable Streams reads", () => {
  it("sends text and JSON as text, everything else as base64", () => {
    expect(isSseBase64("text/plain; charset=utf-8")).toBe(false);
    expect(isSseBase64("APPLICATION/JSON")).toBe(false);
    for (const type of ["application/octet-stream", "application/x-protobuf", "image/png", "application/ndjson"]) expect(isSseBase64(type)).toBe(true);
    expect(renderSsePayload([rec(0, "Hel"), rec(1, "lo")], "application/octet-stream")).toBe("SGVsbG8=");
    expect(renderSsePayload([rec(0, "a\nb")], "text/plain")).toBe("a\nb");
  });

  it("gives JSON one array per read, with every element valid JSON even for records that are not", () => {
    const records = [rec(0, '{"a":1}'), rec(1, "[1,2]"), rec(2, "not json"), rec(3, new Uint8Array([0xff]))];
    expect(JSON.parse(renderSsePayload(records, "application/json"))).toEqual([{ a: 1 }, [1, 2], "not json", "\uFFFD"]);
    expect(fromUtf8Lossy(renderReadBody([], "application/json"))).toBe("[]");
  });

  it("concatenates record bodies for byte streams and leaves out S2 command records", () => {
    const fence = { seqNum: 1, timestamp: 0, ...commandRecord({ kind: "fence", token: "t" }) };
    expect(fromUtf8Lossy(renderReadBody([rec(0, "ab"), fence, rec(2, "cd")], "text/plain"))).toBe("abcd");
  });
});
