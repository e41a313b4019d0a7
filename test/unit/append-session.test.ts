// The S2S append session loop (S2-API §12.3) against a fake stream: acks in input order, the first failure ends
// the session with the acks due and one terminal frame, later inputs never reach the stream, frames may arrive
// cut at any byte.
import { describe, expect, it } from "vitest";
import { streamError, type StreamError } from "../../src/domain/errors";
import type { AppendAck, AppendInput } from "../../src/domain/types";
import { concatBytes, utf8 } from "../../src/lib/bytes";
import { err, ok, type Result } from "../../src/lib/result";
import { compress, type Compression } from "../../src/protocol/compression";
import { decodeAppendAck, encodeAppendInput } from "../../src/protocol/s2/proto";
import { encodeFrame, encodeTerminalFrame, FrameDecoder, openMessage, type Frame } from "../../src/protocol/s2/s2s";
import { runS2sAppendSession, sessionInput, type SessionAppend } from "../../src/http/s2/append-session";
import { Rejection } from "../../src/http/rejection";

const input = (bodies: string[], extra: Partial<AppendInput> = {}): AppendInput => ({
  records: bodies.map((body) => ({ headers: [], body: utf8(body) })),
  ...extra,
});

const frameOf = (value: AppendInput, compression: Compression = "none") =>
  encodeFrame(compress(encodeAppendInput(value), compression), compression);

/** A stream's single writer in memory: sequences inputs, checks match_seq_num, records what it applied. */
class FakeStream {
  tail = 0;
  readonly applied: AppendInput[] = [];
  failWith: StreamError | undefined;
  throwWith: unknown;

  readonly append: SessionAppend = async (value) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.throwWith !== undefined) throw this.throwWith;
    if (this.failWith) return err(this.failWith);
    if (value.records.length === 0) return err(streamError("invalid", "record batch must not be empty"));
    if (value.matchSeqNum !== undefined && value.matchSeqNum !== this.tail) {
      return err({ code: "seq_num_mismatch", expectedSeqNum: this.tail });
    }
    this.applied.push(value);
    const start = { seqNum: this.tail, timestamp: 7 };
    this.tail += value.records.length;
    const end = { seqNum: this.tail, timestamp: 7 };
    return ok({ start, end, tail: end } satisfies AppendAck);
  };
}

interface SessionResult {
  acks: AppendAck[];
  terminal: { status: number; body: unknown } | undefined;
  /** Frames after the terminal one (there must be none). */
  trailing: number;
}

/** Runs a session over `chunks` (each one body chunk) and decodes everything it wrote. */
async function run(stream: FakeStream, chunks: Uint8Array[], compression: Compression = "none"): Promise<SessionResult> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const written: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (chunk) => void written.push(chunk) });
  await runS2sAppendSession(body, stream.append, compression, sink.getWriter());
  return decodeOutput(concatBytes(written));
}

function decodeOutput(bytes: Uint8Array): SessionResult {
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  const result: SessionResult = { acks: [], terminal: undefined, trailing: 0 };
  for (;;) {
    const next = decoder.next();
    if (!next.ok) throw new Error(`server wrote a bad frame: ${next.error}`);
    const frame: Frame | undefined = next.value;
    if (!frame) break;
    if (result.terminal) result.trailing++;
    else if (frame.terminal) result.terminal = { status: frame.status, body: JSON.parse(frame.body) };
    else {
      const message = openMessage(frame);
      if (!message.ok) throw new Error(message.error);
      const ack = decodeAppendAck(message.value);
      if (!ack.ok) throw new Error(ack.error);
      result.acks.push(ack.value);
    }
  }
  expect(decoder.finish().ok, "the session ended inside a frame").toBe(true);
  return result;
}

const ackStarts = (result: SessionResult) => result.acks.map((ack) => [ack.start.seqNum, ack.end.seqNum]);

describe("S2S append session loop", () => {
  it("acks every input in order and ends without a terminal frame", async () => {
    const stream = new FakeStream();
    const result = await run(stream, [frameOf(input(["a", "b"])), frameOf(input(["c"])), frameOf(input(["d", "e", "f"]))]);
    expect(ackStarts(result)).toEqual([[0, 2], [2, 3], [3, 6]]);
    expect(result.terminal).toBeUndefined();
    expect(stream.tail).toBe(6);
  });

  it("evaluates match_seq_num against earlier inputs of the same session", async () => {
    const stream = new FakeStream();
    const frames = [0, 1, 2, 3].map((n) => frameOf(input([`r${n}`], { matchSeqNum: n })));
    const result = await run(stream, [concatBytes(frames)]);
    expect(ackStarts(result)).toEqual([[0, 1], [1, 2], [2, 3], [3, 4]]);
  });

  it("decodes frames cut at every byte, and frames sharing a chunk", async () => {
    const stream = new FakeStream();
    const all = concatBytes([frameOf(input(["x"])), frameOf(input(["yy", "zzz"])), frameOf(input(["w"]))]);
    const bytewise = Array.from(all, (byte) => new Uint8Array([byte]));
    const result = await run(stream, bytewise);
    expect(ackStarts(result)).toEqual([[0, 1], [1, 3], [3, 4]]);
  });

  it("accepts zstd and gzip frames of any size", async () => {
    const stream = new FakeStream();
    const big = "q".repeat(5000);
    const result = await run(stream, [frameOf(input([big]), "zstd"), frameOf(input(["s"]), "gzip"), frameOf(input([big]), "gzip")]);
    expect(ackStarts(result)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(new TextDecoder().decode(stream.applied[0]!.records[0]!.body)).toBe(big);
  });

  it("on a failed condition sends the earlier acks, a terminal 412, and applies nothing after", async () => {
    const stream = new FakeStream();
    const result = await run(stream, [
      frameOf(input(["a"], { matchSeqNum: 0 })),
      frameOf(input(["b"])),
      frameOf(input(["c"], { matchSeqNum: 0 })),
      frameOf(input(["d"])),
    ]);
    expect(ackStarts(result)).toEqual([[0, 1], [1, 2]]);
    expect(result.terminal).toEqual({ status: 412, body: { seq_num_mismatch: 2 } });
    expect(result.trailing).toBe(0);
    expect(stream.applied).toHaveLength(2);
  });

  it("passes a rejected input's unary status and body through (422 invalid)", async () => {
    const stream = new FakeStream();
    const result = await run(stream, [frameOf(input(["a"])), frameOf(input([])), frameOf(input(["z"]))]);
    expect(ackStarts(result)).toEqual([[0, 1]]);
    expect(result.terminal).toEqual({ status: 422, body: { code: "invalid", message: "record batch must not be empty" } });
    expect(stream.tail).toBe(1);
  });

  it("renders a Rejection thrown by the append as its error, anything else as 500 other", async () => {
    const rejected = new FakeStream();
    rejected.throwWith = new Rejection(streamError("permission_denied", "this token may not trim here"));
    expect((await run(rejected, [frameOf(input(["a"]))])).terminal).toEqual({
      status: 403, body: { code: "permission_denied", message: "this token may not trim here" },
    });
    const broken = new FakeStream();
    broken.throwWith = new Error("Durable Object reset");
    const result = await run(broken, [frameOf(input(["a"]))]);
    expect(result.terminal?.status).toBe(500);
    expect(result.terminal?.body).toMatchObject({ code: "other" });
  });

  const badFrameCases: [string, Uint8Array, string][] = [
    ["a zero length", new Uint8Array([0, 0, 0]), "length is 0"],
    ["compression bits 11", new Uint8Array([0, 0, 2, 0x60, 0x0a]), "compression bits 11"],
    ["a length over 2 MiB", new Uint8Array([0x20, 0x00, 0x01, 0x00]), "exceeds"],
    ["a truncated frame at the end of the body", new Uint8Array([0, 0, 9, 0, 0x0a, 0x04]), "ended inside a frame"],
    ["a terminal frame from the client", encodeTerminalFrame(400, "{}"), "no terminal frames from the client"],
    ["a corrupt zstd payload", encodeFrame(new Uint8Array([1, 2, 3, 4]), "zstd"), "invalid zstd"],
  ];
  for (const [what, bad, message] of badFrameCases) {
    it(`answers ${what} with the acks due, then 400 bad_frame, and stops`, async () => {
      const stream = new FakeStream();
      // A well-formed frame follows the bad one, except where the body must end inside the bad frame.
      const rest = message.startsWith("ended") ? [] : [frameOf(input(["never"]))];
      const result = await run(stream, [frameOf(input(["ok"])), concatBytes([bad, ...rest])]);
      expect(ackStarts(result)).toEqual([[0, 1]]);
      expect(result.terminal?.status).toBe(400);
      expect(result.terminal?.body).toMatchObject({ code: "bad_frame" });
      expect((result.terminal?.body as { message: string }).message).toContain(message);
      expect(stream.applied).toHaveLength(1);
    });
  }

  it("refuses a message that decompresses beyond 2 MiB − 1 as bad_frame", async () => {
    const stream = new FakeStream();
    const bomb = compress(new Uint8Array(3 * 1024 * 1024), "zstd");
    const result = await run(stream, [encodeFrame(bomb, "zstd")]);
    expect(result.terminal?.body).toMatchObject({ code: "bad_frame" });
    expect(stream.applied).toHaveLength(0);
  });

  it("answers a payload that is not an AppendInput with 400 bad_proto", async () => {
    const stream = new FakeStream();
    const result = await run(stream, [frameOf(input(["a"])), encodeFrame(new Uint8Array([0x0a, 0x05, 0xff]))]);
    expect(ackStarts(result)).toEqual([[0, 1]]);
    expect(result.terminal?.status).toBe(400);
    expect(result.terminal?.body).toMatchObject({ code: "bad_proto" });
  });

  it("ends quietly on an empty body", async () => {
    const result = await run(new FakeStream(), []);
    expect(result).toEqual({ acks: [], terminal: undefined, trailing: 0 });
  });

  it("never compresses acks, whatever was negotiated (they are far below 1 KiB)", async () => {
    const stream = new FakeStream();
    const written: Uint8Array[] = [];
    const body = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(frameOf(input(["a"]))), c.close()) });
    await runS2sAppendSession(body, stream.append, "zstd", new WritableStream({ write: (chunk) => void written.push(chunk) }).getWriter());
    expect(written[0]![3]).toBe(0); // flags: not terminal, compression 00
  });
});

describe("sessionInput", () => {
  it("opens a regular frame into its AppendInput", () => {
    const decoder = new FrameDecoder();
    decoder.push(frameOf(input(["hi"], { matchSeqNum: 4, fencingToken: "t" }), "gzip"));
    const frame = decoder.next();
    if (!frame.ok || !frame.value) throw new Error("no frame");
    const decoded: Result<AppendInput, StreamError> = sessionInput(frame.value);
    expect(decoded).toEqual({ ok: true, value: input(["hi"], { matchSeqNum: 4, fencingToken: "t" }) });
  });
});
