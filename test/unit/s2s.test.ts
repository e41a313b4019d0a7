import { describe, expect, it } from "vitest";
import { streamError } from "../../src/domain/errors";
import { utf8 } from "../../src/lib/bytes";
import type { Result } from "../../src/lib/result";
import { compress, decompress, negotiateCompression } from "../../src/protocol/compression";
import { decodeReadBatch, encodeAppendInput, encodeReadBatch } from "../../src/protocol/s2/proto";
import {
  COMPRESSION_MIN_BYTES,
  encodeFrame,
  encodeMessage,
  encodeTerminalFrame,
  FRAME_LENGTH_MAX,
  FrameDecoder,
  MESSAGE_BYTES_MAX,
  openMessage,
  renderErrorFrame,
  renderReadFrame,
  type Frame,
  type RegularFrame,
} from "../../src/protocol/s2/s2s";
// The official TS SDK's own S2S framing and frame compression, reached by path because the package does not
// export them: an independent decoder and encoder to check ours against.
import { frameMessage, S2SFrameParser } from "../../node_modules/@s2-dev/streamstore/dist/esm/lib/stream/transport/s2s/framing.js";
import {
  assertCompressionSupported,
  decompressFrameBody,
} from "../../node_modules/@s2-dev/streamstore/dist/esm/lib/stream/transport/s2s/compression.js";

const bytes = (...values: number[]) => new Uint8Array(values);
const hex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(" ");

function unwrap<T>(result: Result<T, string>): T {
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.value;
}

function expectErr<T>(result: Result<T, string>): string {
  expect(result.ok, "expected an error").toBe(false);
  return result.ok ? "" : result.error;
}

/** Every frame the decoder yields for `chunks`, fed in order; fails the test on a decode error. */
function decodeAll(chunks: readonly Uint8Array[]): Frame[] {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame = unwrap(decoder.next()); frame; frame = unwrap(decoder.next())) frames.push(frame);
  }
  unwrap(decoder.finish());
  return frames;
}

function regular(frame: Frame | undefined): RegularFrame {
  if (!frame || frame.terminal) throw new Error(`expected a regular frame, got ${JSON.stringify(frame)}`);
  return frame;
}

/** A deterministic pseudo-random byte string (xorshift), which no compressor can shrink. */
function noise(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Compressible text of exactly `length` bytes. */
const text = (length: number) => utf8("the quick brown fox jumps over the lazy dog. ".repeat(Math.ceil(length / 45)).slice(0, length));

// S2-API §12.2's worked examples.
const HI_FRAME = bytes(0x00, 0x00, 0x07, 0x00, 0x0a, 0x04, 0x1a, 0x02, 0x68, 0x69);
const MISMATCH_JSON = '{"seq_num_mismatch":5}';
const MISMATCH_FRAME = new Uint8Array([0x00, 0x00, 0x19, 0x80, 0x01, 0x9c, ...utf8(MISMATCH_JSON)]);

describe("encoding frames", () => {
  it("frames the spec's AppendInput example byte for byte", () => {
    const message = encodeAppendInput({ records: [{ headers: [], body: utf8("hi") }] });
    expect(hex(encodeFrame(message))).toBe(hex(HI_FRAME));
    // Below the compression threshold, negotiated compression changes nothing.
    expect(hex(encodeMessage(message, "zstd"))).toBe(hex(HI_FRAME));
  });

  it("frames the spec's terminal 412 example byte for byte", () => {
    expect(utf8(MISMATCH_JSON).length).toBe(22);
    expect(hex(encodeTerminalFrame(412, MISMATCH_JSON))).toBe(hex(MISMATCH_FRAME));
    expect(hex(renderErrorFrame({ code: "seq_num_mismatch", expectedSeqNum: 5 }))).toBe(hex(MISMATCH_FRAME));
  });

  it("sets the compression and reconnect bits of the flag byte", () => {
    expect(encodeFrame(bytes(1), "none")[3]).toBe(0b0000_0000);
    expect(encodeFrame(bytes(1), "zstd")[3]).toBe(0b0010_0000);
    expect(encodeFrame(bytes(1), "gzip")[3]).toBe(0b0100_0000);
    expect(encodeFrame(bytes(1), "gzip", { reconnectAdvised: true })[3]).toBe(0b0101_0000);
  });

  it("frames an empty payload (an empty ReadBatch) as length 1", () => {
    expect(hex(encodeFrame(new Uint8Array(0)))).toBe("00 00 01 00");
  });

  it("writes all three length bytes big-endian and accepts exactly the maximum", () => {
    const frame = encodeFrame(new Uint8Array(MESSAGE_BYTES_MAX));
    expect(hex(frame.subarray(0, 4))).toBe("20 00 00 00");
    expect(frame.length).toBe(3 + FRAME_LENGTH_MAX);
    expect(hex(encodeFrame(new Uint8Array(0x1_0203 - 1)).subarray(0, 3))).toBe("01 02 03");
  });

  it("refuses a payload one byte over the maximum", () => {
    expect(() => encodeFrame(new Uint8Array(MESSAGE_BYTES_MAX + 1))).toThrow(/exceeds/);
  });
});

describe("FrameDecoder", () => {
  const zstdFrame = encodeMessage(text(5000), "zstd");
  const stream = [HI_FRAME, encodeFrame(new Uint8Array(0)), zstdFrame, encodeFrame(noise(300), "none", { reconnectAdvised: true }), MISMATCH_FRAME];
  const whole = new Uint8Array(stream.reduce((n, f) => n + f.length, 0));
  stream.reduce((offset, f) => (whole.set(f, offset), offset + f.length), 0);

  function expectStreamFrames(frames: Frame[]): void {
    expect(frames).toHaveLength(5);
    expect(regular(frames[0])).toEqual({ terminal: false, compression: "none", reconnectAdvised: false, payload: HI_FRAME.subarray(4) });
    expect(regular(frames[1]).payload.length).toBe(0);
    expect(regular(frames[2]).compression).toBe("zstd");
    expect(unwrap(openMessage(regular(frames[2])))).toEqual(text(5000));
    expect(regular(frames[3])).toMatchObject({ reconnectAdvised: true, payload: noise(300) });
    expect(frames[4]).toEqual({ terminal: true, status: 412, body: MISMATCH_JSON });
  }

  it("decodes the spec examples", () => {
    expect(decodeAll([HI_FRAME, MISMATCH_FRAME])).toEqual([
      { terminal: false, compression: "none", reconnectAdvised: false, payload: HI_FRAME.subarray(4) },
      { terminal: true, status: 412, body: MISMATCH_JSON },
    ]);
  });

  it("decodes a stream delivered in one chunk", () => {
    expectStreamFrames(decodeAll([whole]));
  });

  it("decodes a stream delivered one byte at a time", () => {
    expectStreamFrames(decodeAll(Array.from(whole, (b) => bytes(b))));
  });

  it("decodes a stream split in two at every possible point", () => {
    for (let cut = 0; cut <= whole.length; cut++) {
      const frames = decodeAll([whole.subarray(0, cut), whole.subarray(cut)]);
      expect(frames.map((f) => (f.terminal ? "T" : f.payload.length)), `cut at ${cut}`).toEqual([6, 0, zstdFrame.length - 4, 300, "T"]);
    }
  });

  it("decodes a stream cut into random chunk sizes", () => {
    let seed = 7;
    for (let round = 0; round < 50; round++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < whole.length; ) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const size = 1 + (seed % 40);
        chunks.push(whole.slice(i, i + size));
        i += size;
      }
      expectStreamFrames(decodeAll(chunks));
    }
  });

  it("yields nothing until a frame is complete, then exactly that frame", () => {
    const decoder = new FrameDecoder();
    decoder.push(HI_FRAME.subarray(0, 9));
    expect(unwrap(decoder.next())).toBeUndefined();
    expectErr(decoder.finish());
    decoder.push(HI_FRAME.subarray(9));
    expect(regular(unwrap(decoder.next())).payload).toEqual(HI_FRAME.subarray(4));
    expect(unwrap(decoder.next())).toBeUndefined();
    unwrap(decoder.finish());
  });

  it("hands out payloads that own their bytes, not views of the pushed chunks", () => {
    const decoder = new FrameDecoder();
    const chunk = HI_FRAME.slice();
    decoder.push(chunk);
    const payload = regular(unwrap(decoder.next())).payload;
    chunk.fill(0);
    expect(hex(payload)).toBe("0a 04 1a 02 68 69");
    expect(payload.buffer.byteLength).toBe(6);
  });

  it("ignores the reserved bits", () => {
    const frame = HI_FRAME.slice();
    frame[3] = 0b0000_1111;
    expect(regular(decodeAll([frame])[0])).toMatchObject({ compression: "none", reconnectAdvised: false });
  });

  it("decodes a maximum-length frame", () => {
    const frames = decodeAll([encodeFrame(new Uint8Array(MESSAGE_BYTES_MAX).fill(7))]);
    expect(regular(frames[0]).payload.length).toBe(MESSAGE_BYTES_MAX);
  });
});

describe("FrameDecoder errors", () => {
  function firstError(...chunks: Uint8Array[]): string {
    const decoder = new FrameDecoder();
    for (const chunk of chunks) decoder.push(chunk);
    return expectErr(decoder.next());
  }

  it("rejects a zero length as soon as the length bytes arrive", () => {
    expect(firstError(bytes(0, 0, 0))).toMatch(/length is 0/);
  });

  it("rejects a length over 2 MiB without waiting for the payload", () => {
    expect(firstError(bytes(0x20, 0x00, 0x01))).toMatch(/exceeds 2097152/);
    expect(firstError(bytes(0xff, 0xff, 0xff))).toMatch(/exceeds/);
  });

  it("rejects compression bits 11 as soon as the flag byte arrives", () => {
    expect(firstError(bytes(0x00, 0x00, 0x10, 0b0110_0000))).toMatch(/compression bits/);
    expect(firstError(bytes(0x00, 0x00, 0x10, 0b1110_0000))).toMatch(/compression bits/);
  });

  it("rejects terminal frames shorter than a status code", () => {
    expect(firstError(bytes(0x00, 0x00, 0x01, 0x80))).toMatch(/status code/);
    expect(firstError(bytes(0x00, 0x00, 0x02, 0x80, 0x01))).toMatch(/status code/);
  });

  it("accepts a terminal frame that is only a status code", () => {
    expect(decodeAll([bytes(0x00, 0x00, 0x03, 0x80, 0x01, 0xf4)])).toEqual([{ terminal: true, status: 500, body: "" }]);
  });

  it("rejects a terminal body that is not UTF-8", () => {
    expect(firstError(bytes(0x00, 0x00, 0x04, 0x80, 0x01, 0x90, 0xff))).toMatch(/UTF-8/);
  });

  it("stays failed after an error, even when good frames follow", () => {
    const decoder = new FrameDecoder();
    decoder.push(bytes(0, 0, 0));
    decoder.push(HI_FRAME);
    const first = expectErr(decoder.next());
    expect(expectErr(decoder.next())).toBe(first);
    expect(expectErr(decoder.finish())).toBe(first);
  });

  it("reports a stream that ends inside a frame", () => {
    const decoder = new FrameDecoder();
    decoder.push(HI_FRAME.subarray(0, 2));
    expect(unwrap(decoder.next())).toBeUndefined();
    expect(expectErr(decoder.finish())).toMatch(/ended inside a frame/);
  });

  it("never throws on arbitrary input", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const decoder = new FrameDecoder();
      decoder.push(noise(64, seed));
      expect(() => {
        for (let i = 0; i < 10; i++) if (!decoder.next().ok) break;
        decoder.finish();
      }).not.toThrow();
    }
  });
});

describe("negotiateCompression", () => {
  it.each([
    [undefined, "none"],
    ["", "none"],
    ["identity", "none"],
    ["br, deflate", "none"],
    ["gzip", "gzip"],
    ["br, GZIP;q=0.5", "gzip"],
    ["zstd", "zstd"],
    ["gzip, deflate, br, zstd", "zstd"],
    // q-values are ignored: naming an encoding is enough.
    ["gzip;q=1, zstd;q=0.1", "zstd"],
    ["zstd;q=0", "zstd"],
    [" Zstd ", "zstd"],
  ] as const)("%j → %s", (header, expected) => {
    expect(negotiateCompression(header)).toBe(expected);
  });
});

describe("message compression", () => {
  it.each(["zstd", "gzip"] as const)("%s: messages of 1 KiB and more are compressed and round-trip", (compression) => {
    const message = text(COMPRESSION_MIN_BYTES);
    const frame = regular(decodeAll([encodeMessage(message, compression)])[0]);
    expect(frame.compression).toBe(compression);
    expect(frame.payload.length).toBeLessThan(message.length);
    expect(unwrap(openMessage(frame))).toEqual(message);
  });

  it.each(["zstd", "gzip"] as const)("%s: messages under 1 KiB stay uncompressed", (compression) => {
    const message = text(COMPRESSION_MIN_BYTES - 1);
    const frame = regular(decodeAll([encodeMessage(message, compression)])[0]);
    expect(frame.compression).toBe("none");
    expect(frame.payload).toEqual(message);
  });

  it("does not compress when none was negotiated", () => {
    const frame = regular(decodeAll([encodeMessage(text(10_000), "none")])[0]);
    expect(frame).toMatchObject({ compression: "none", payload: text(10_000) });
  });

  it.each(["zstd", "gzip"] as const)("%s: sends incompressible messages as they are", (compression) => {
    const message = noise(4096);
    const frame = regular(decodeAll([encodeMessage(message, compression)])[0]);
    expect(frame).toMatchObject({ compression: "none", payload: message });
  });

  it.each(["zstd", "gzip"] as const)("%s: refuses a payload that would decompress beyond the frame limit", (compression) => {
    const bomb = compress(new Uint8Array(MESSAGE_BYTES_MAX + 1), compression);
    expect(bomb.length).toBeLessThan(10_000);
    const frame = regular(decodeAll([encodeFrame(bomb, compression)])[0]);
    expect(expectErr(openMessage(frame))).toMatch(/more than 2097151 bytes/);
    // Exactly the limit is fine.
    const full = compress(new Uint8Array(MESSAGE_BYTES_MAX), compression);
    expect(unwrap(openMessage({ ...frame, payload: full })).length).toBe(MESSAGE_BYTES_MAX);
  });

  it.each(["zstd", "gzip"] as const)("%s: reports a corrupt payload as an error", (compression) => {
    expect(expectErr(decompress(noise(100), compression, 1000))).toMatch(new RegExp(`invalid ${compression}`));
  });

  it("returns plain, exact-size arrays (not pooled Node Buffers)", () => {
    for (const compression of ["zstd", "gzip"] as const) {
      const small = compress(utf8("x"), compression);
      expect(small.constructor).toBe(Uint8Array);
      expect(small.buffer.byteLength).toBe(small.length);
      const back = unwrap(decompress(small, compression, 10));
      expect(back.constructor).toBe(Uint8Array);
      expect(back.buffer.byteLength).toBe(1);
    }
  });
});

describe("read session frames", () => {
  const record = { seqNum: 4, timestamp: 1234, headers: [], body: utf8("r4") };

  it("renders a heartbeat as a ReadBatch with a tail and no records", () => {
    const frame = regular(decodeAll([renderReadFrame({ kind: "heartbeat", tail: { seqNum: 5, timestamp: 1234 } }, "none")])[0]);
    expect(unwrap(decodeReadBatch(frame.payload))).toStrictEqual({ records: [], tail: { seqNum: 5, timestamp: 1234 } });
  });

  it("renders a catch-up batch without a tail and a live batch with one", () => {
    const catchUp = regular(decodeAll([renderReadFrame({ kind: "batch", batch: { records: [record] } }, "gzip")])[0]);
    expect(unwrap(decodeReadBatch(catchUp.payload))).toStrictEqual({ records: [record] });
    const live = renderReadFrame({ kind: "batch", batch: { records: [record], tail: { seqNum: 5, timestamp: 1234 } } }, "none");
    expect(unwrap(decodeReadBatch(regular(decodeAll([live])[0]).payload)).tail).toEqual({ seqNum: 5, timestamp: 1234 });
  });

  it("compresses a large batch as negotiated", () => {
    const big = { ...record, body: text(20_000) };
    const frame = regular(decodeAll([renderReadFrame({ kind: "batch", batch: { records: [big] } }, "zstd")])[0]);
    expect(frame.compression).toBe("zstd");
    expect(unwrap(decodeReadBatch(unwrap(openMessage(frame))))).toStrictEqual({ records: [big] });
  });

  it("renders an error as a terminal frame with the unary status and body", () => {
    const [frame] = decodeAll([renderErrorFrame(streamError("stream_not_found", "stream was deleted"))]);
    expect(frame).toEqual({ terminal: true, status: 404, body: '{"code":"stream_not_found","message":"stream was deleted"}' });
  });
});

describe("against the official SDK's S2S framing", () => {
  function sdkParse(...frames: Uint8Array[]) {
    const parser = new S2SFrameParser();
    for (const frame of frames) parser.push(frame);
    const parsed = [];
    for (let frame = parser.parseFrame(); frame; frame = parser.parseFrame()) parsed.push(frame);
    expect(parser.hasData()).toBe(false);
    return parsed;
  }

  it("the SDK parses our regular and terminal frames", () => {
    const parsed = sdkParse(HI_FRAME, encodeFrame(bytes(1, 2), "gzip", { reconnectAdvised: true }), encodeTerminalFrame(416, '{"tail":{}}'));
    expect(parsed).toEqual([
      { terminal: false, compression: "none", reconnectAdvised: false, body: HI_FRAME.subarray(4), statusCode: undefined },
      { terminal: false, compression: "gzip", reconnectAdvised: true, body: bytes(1, 2), statusCode: undefined },
      { terminal: true, compression: "none", reconnectAdvised: false, body: utf8('{"tail":{}}'), statusCode: 416 },
    ]);
  });

  it.each(["zstd", "gzip"] as const)("the SDK decompresses our %s read batches", async (compression) => {
    await assertCompressionSupported(compression);
    const batch = { records: [{ seqNum: 0, timestamp: 1, headers: [], body: text(8000) }] };
    const [parsed] = sdkParse(encodeMessage(encodeReadBatch(batch), compression));
    expect(parsed!.compression).toBe(compression);
    const message = decompressFrameBody(parsed!.body, compression);
    expect(unwrap(decodeReadBatch(new Uint8Array(message)))).toStrictEqual(batch);
  });

  it("we decode the SDK's frames, including terminal frames", () => {
    const frames = decodeAll([
      frameMessage({ terminal: false, body: HI_FRAME.subarray(4) }),
      frameMessage({ terminal: false, compression: "zstd", body: bytes(9) }),
      frameMessage({ terminal: true, statusCode: 412, body: utf8(MISMATCH_JSON) }),
    ]);
    expect(frames).toEqual([
      { terminal: false, compression: "none", reconnectAdvised: false, payload: HI_FRAME.subarray(4) },
      { terminal: false, compression: "zstd", reconnectAdvised: false, payload: bytes(9) },
      { terminal: true, status: 412, body: MISMATCH_JSON },
    ]);
    expect(hex(frameMessage({ terminal: true, statusCode: 412, body: utf8(MISMATCH_JSON) }))).toBe(hex(MISMATCH_FRAME));
  });
});
