/**
 * S2S, S2's framed session protocol (S2-API §12), spoken in both directions on one HTTP exchange with
 * `Content-Type: s2s/proto`: read sessions stream ReadBatch frames to the client; append sessions take
 * AppendInput frames from the client and answer with AppendAck frames.
 *
 *   +----------------+-----------+------------------------------+
 *   | length: 3 B BE | flags: 1B | payload: length - 1 bytes    |
 *   +----------------+-----------+------------------------------+
 *
 *   length counts the flag byte and the payload, not itself: 1 ..= 2 MiB (2,097,152).
 *
 *   flags   7   6   5   4   3   2   1   0
 *         +---+-------+---+---------------+
 *         | T |  C C  | R |  reserved, 0  |
 *         +---+-------+---+---------------+
 *   T  terminal: the last frame of the stream
 *   C  compression of the payload: 00 none, 01 zstd, 10 gzip, 11 invalid
 *   R  reconnect advised (server to client; we never set it, a server need not)
 *
 *   regular payload:   one protobuf message, compressed per C
 *   terminal payload:  +-----------------+------------------------------------------+
 *                      | status: 2 B BE  | UTF-8 JSON error body, as the unary call |
 *                      +-----------------+------------------------------------------+
 *
 * Terminal frames are always sent uncompressed. The decoder never throws: every protocol error is an Err,
 * which an append session answers with a `400 bad_frame` terminal frame.
 */
import type { StreamError } from "../../domain/errors";
import type { ReadOutput } from "../../domain/types";
import { fromUtf8Strict, utf8 } from "../../lib/bytes";
import { err, ok, type Result } from "../../lib/result";
import { compress, decompress, type Compression } from "../compression";
import { renderS2Error } from "./errors";
import { encodeReadBatch } from "./proto";

export const S2S_CONTENT_TYPE = "s2s/proto";

/** Largest `length` field: flag byte plus payload (S2-API §12.2). */
export const FRAME_LENGTH_MAX = 2 * 1024 * 1024;
/** Largest payload, and also the largest message after decompression. */
export const MESSAGE_BYTES_MAX = FRAME_LENGTH_MAX - 1;
/** Smaller messages travel uncompressed even when the client accepts compression: it would gain little. */
export const COMPRESSION_MIN_BYTES = 1024;

const LENGTH_BYTES = 3;
const HEADER_BYTES = LENGTH_BYTES + 1;
const STATUS_BYTES = 2;

const FLAG_TERMINAL = 0b1000_0000;
const FLAG_COMPRESSION_MASK = 0b0110_0000;
const FLAG_COMPRESSION_SHIFT = 5;
const FLAG_RECONNECT = 0b0001_0000;

/** Indexed by the C bits; 0b11 is not an algorithm. */
const COMPRESSION_BY_BITS: readonly (Compression | undefined)[] = ["none", "zstd", "gzip", undefined];
const BITS_BY_COMPRESSION: Readonly<Record<Compression, number>> = { none: 0b00, zstd: 0b01, gzip: 0b10 };

export interface RegularFrame {
  terminal: false;
  compression: Compression;
  reconnectAdvised: boolean;
  /** As on the wire, still compressed; `openMessage` yields the message. */
  payload: Uint8Array;
}

export interface TerminalFrame {
  terminal: true;
  status: number;
  /** The JSON error body, as text. */
  body: string;
}

export type Frame = RegularFrame | TerminalFrame;

/**
 * Frames a payload that is already compressed with `compression`. Throws if it cannot fit a frame: callers
 * bound their messages (a ReadBatch of at most 1 MiB metered encodes well below 2 MiB), so that is a bug.
 */
export function encodeFrame(payload: Uint8Array, compression: Compression = "none", options: { reconnectAdvised?: boolean } = {}): Uint8Array {
  let flags = BITS_BY_COMPRESSION[compression] << FLAG_COMPRESSION_SHIFT;
  if (options.reconnectAdvised) flags |= FLAG_RECONNECT;
  return frame(flags, [payload]);
}

/** The last frame of a failed session: the HTTP status and JSON body the unary call would have answered. */
export function encodeTerminalFrame(status: number, jsonBody: string): Uint8Array {
  const statusBytes = new Uint8Array([(status >> 8) & 0xff, status & 0xff]);
  return frame(FLAG_TERMINAL, [statusBytes, utf8(jsonBody)]);
}

/** Compresses the message as negotiated, unless it is small or compression does not shrink it, and frames it. */
export function encodeMessage(message: Uint8Array, compression: Compression): Uint8Array {
  if (compression !== "none" && message.length >= COMPRESSION_MIN_BYTES) {
    const compressed = compress(message, compression);
    // Incompressible data grows a little; the receiver accepts any encoding, so send the smaller form.
    if (compressed.length < message.length) return encodeFrame(compressed, compression);
  }
  return encodeFrame(message, "none");
}

/** The protobuf message a regular frame carries, decompressed and bounded to MESSAGE_BYTES_MAX. */
export function openMessage(frame: RegularFrame): Result<Uint8Array, string> {
  return decompress(frame.payload, frame.compression, MESSAGE_BYTES_MAX);
}

/** A read session's output as an S2S frame; a heartbeat is a ReadBatch with no records and a tail (§12.4). */
export function renderReadFrame(output: ReadOutput, compression: Compression): Uint8Array {
  const batch = output.kind === "batch" ? output.batch : { records: [], tail: output.tail };
  return encodeMessage(encodeReadBatch(batch), compression);
}

export function renderErrorFrame(error: StreamError): Uint8Array {
  const { status, body } = renderS2Error(error);
  return encodeTerminalFrame(status, body);
}

function frame(flags: number, parts: readonly Uint8Array[]): Uint8Array {
  let payloadBytes = 0;
  for (const part of parts) payloadBytes += part.length;
  const length = 1 + payloadBytes;
  if (length > FRAME_LENGTH_MAX) throw new Error(`S2S frame of ${length} bytes exceeds ${FRAME_LENGTH_MAX}`);
  const out = new Uint8Array(LENGTH_BYTES + length);
  out[0] = (length >> 16) & 0xff;
  out[1] = (length >> 8) & 0xff;
  out[2] = length & 0xff;
  out[3] = flags;
  let offset = HEADER_BYTES;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Frames from a byte stream cut at arbitrary points: `push` each chunk as it arrives, then call `next` until it
 * yields undefined (a partial frame stays buffered). A header is judged as soon as its bytes arrive, so an
 * oversized length fails at once instead of after 2 MiB of buffering. After an error the decoder is spent and
 * keeps returning that error; `finish` at end of input reports a frame cut short.
 */
export class FrameDecoder {
  /** Unconsumed input; the first chunk is consumed up to #offset. */
  readonly #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #failure: string | undefined;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete frame, undefined when more bytes are needed, or the protocol error. */
  next(): Result<Frame | undefined, string> {
    if (this.#failure !== undefined) return err(this.#failure);
    if (this.#buffered < LENGTH_BYTES) return ok(undefined);
    const length = (this.#byteAt(0) << 16) | (this.#byteAt(1) << 8) | this.#byteAt(2);
    if (length === 0) return this.#fail("S2S frame length is 0, but the flag byte is mandatory");
    if (length > FRAME_LENGTH_MAX) return this.#fail(`S2S frame length ${length} exceeds ${FRAME_LENGTH_MAX}`);
    if (this.#buffered < HEADER_BYTES) return ok(undefined);

    const flags = this.#byteAt(LENGTH_BYTES);
    const compression = COMPRESSION_BY_BITS[(flags & FLAG_COMPRESSION_MASK) >> FLAG_COMPRESSION_SHIFT];
    if (compression === undefined) return this.#fail("S2S frame has invalid compression bits 11");
    const terminal = (flags & FLAG_TERMINAL) !== 0;
    const payloadBytes = length - 1;
    if (terminal && payloadBytes < STATUS_BYTES) return this.#fail("S2S terminal frame is missing its status code");
    if (this.#buffered < LENGTH_BYTES + length) return ok(undefined);

    this.#skip(HEADER_BYTES);
    const payload = this.#take(payloadBytes);
    if (!terminal) {
      return ok({ terminal: false, compression, reconnectAdvised: (flags & FLAG_RECONNECT) !== 0, payload });
    }
    const body = fromUtf8Strict(payload.subarray(STATUS_BYTES));
    if (body === undefined) return this.#fail("S2S terminal frame body is not valid UTF-8");
    return ok({ terminal: true, status: (payload[0]! << 8) | payload[1]!, body });
  }

  /** At end of input: Ok when every byte formed whole frames. Only reports; the decoder state is unchanged. */
  finish(): Result<void, string> {
    if (this.#failure !== undefined) return err(this.#failure);
    if (this.#buffered > 0) return err(`S2S stream ended inside a frame (${this.#buffered} bytes left over)`);
    return ok(undefined);
  }

  #fail(message: string): Result<never, string> {
    this.#failure = message;
    return err(message);
  }

  /** Byte `index` of the unconsumed input; the caller has checked that it is buffered. */
  #byteAt(index: number): number {
    let i = index + this.#offset;
    for (const chunk of this.#chunks) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    throw new Error("unreachable: byteAt beyond the buffered input");
  }

  #skip(count: number): void {
    this.#consume(count, undefined);
  }

  /** The next `count` bytes as a fresh array: a view would pin the whole chunk it came from. */
  #take(count: number): Uint8Array {
    const out = new Uint8Array(count);
    this.#consume(count, out);
    return out;
  }

  #consume(count: number, into: Uint8Array | undefined): void {
    let written = 0;
    while (written < count) {
      const chunk = this.#chunks[0]!;
      const n = Math.min(chunk.length - this.#offset, count - written);
      into?.set(chunk.subarray(this.#offset, this.#offset + n), written);
      written += n;
      this.#offset += n;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#buffered -= count;
  }
}
