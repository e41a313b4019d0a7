/**
 * S2 append sessions over a WebSocket, for clients whose path to the server cannot carry a full-duplex HTTP body:
 * Cloudflare's edge may not stream a request body and its response at once (workerd#5027), and browsers cannot
 * stream request bodies at all. `GET /v1/streams/{stream}/records/append` with `Upgrade: websocket`. The same
 * sequencing as an S2S append session (append-session.ts); WebSocket messages frame the inputs, so there is no
 * S2S framing inside them. Browsers cannot set headers on a WebSocket, so each header this route reads has a
 * query twin; the header wins when both are given:
 *
 *   Authorization   access_token=<token>     (WebSocket upgrades only: authenticate.ts)
 *   s2-basin        basin=<name>
 *   s2-format       format=raw|json|base64|json-binsafe     (record bytes of JSON inputs and acks)
 *
 * Client → server, each message one AppendInput, validated as a unary append (S2-API §9):
 *
 *   text     the JSON body of a unary append: {"records":[…],"match_seq_num"?,"fencing_token"?}
 *   binary   the protobuf AppendInput of a unary `application/protobuf` append (S2-API §16)
 *
 * Server → client, one ack per input in input order, each in the encoding of its input:
 *
 *   text     {"type":"ack","ack":{"start":…,"end":…,"tail":…}}     (the unary JSON AppendAck)
 *   binary   protobuf AppendAck
 *
 * At the first failure the server sends the acks still due, then {"type":"error","error":<S2 error body>} (the
 * unary call's JSON body, e.g. {"seq_num_mismatch":5}) and closes with 4000 + the HTTP status (1011 for an
 * internal failure); later inputs are not applied. The client ends the session by closing the socket after the
 * last ack it waits for: inputs still queued when the socket closes are dropped, never applied. Failures
 * before the upgrade (bad basin, auth, stream not found) are plain HTTP error responses.
 *
 * The Worker accepts this socket (no hibernation: a session is an active writer) and calls the stream's object
 * once per input, as the S2S session does.
 */
import { Hono } from "hono";
import { streamError, type StreamError } from "../../domain/errors";
import { REQUEST_BODY_BYTES_MAX } from "../../domain/limits";
import type { AppendAck, AppendInput } from "../../domain/types";
import { err, type Result } from "../../lib/result";
import { renderS2Error } from "../../protocol/s2/errors";
import { parseAppendInput, renderAppendAck, type RecordFormat } from "../../protocol/s2/json-records";
import { decodeAppendInput, encodeAppendAck } from "../../protocol/s2/proto";
import { authorize } from "../auth/authorize";
import type { AppEnv } from "../context";
import { appendSafely, type SessionAppend } from "./append-session";
import { basinOfUpgrade, formatOfUpgrade, isUpgrade } from "./read-websocket";
import { openAppendSession } from "./records";
import { s2ErrorResponse, streamParam, type S2Context } from "./request";
import { unwrap } from "../rejection";

export const APPEND_WEBSOCKET_PATH = "/:stream/records/append";

/** RFC 6455 §7.4.1. */
const CLOSE_NORMAL = 1000;
const CLOSE_INTERNAL_ERROR = 1011;
/** Private-use close codes: 4000 + the HTTP status of the same error on a unary call (as the read socket). */
const CLOSE_STATUS_BASE = 4000;

/**
 * A WebSocket has no backpressure towards its sender, so a client that sends faster than the stream commits
 * fills the Worker's memory (128 MB). Past this many received-but-unapplied bytes the session fails with
 * `503 unavailable` (retryable) instead; acks for everything applied before still arrive.
 */
const QUEUED_BYTES_MAX = 16 * 1024 * 1024;

type Message = string | ArrayBuffer;

const messageBytes = (message: Message) => (typeof message === "string" ? message.length * 3 : message.byteLength);

/** One message as an AppendInput; an oversized or undecodable message fails like a unary body would. */
export function parseMessage(message: Message, format: RecordFormat): Result<AppendInput, StreamError> {
  const code = typeof message === "string" ? "bad_json" : "bad_proto";
  const size = typeof message === "string" ? new TextEncoder().encode(message).length : message.byteLength;
  if (size > REQUEST_BODY_BYTES_MAX) return err(streamError(code, `message exceeds ${REQUEST_BODY_BYTES_MAX} bytes`));
  if (typeof message !== "string") {
    const decoded = decodeAppendInput(new Uint8Array(message));
    return decoded.ok ? decoded : err(streamError("bad_proto", decoded.error));
  }
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch (error) {
    return err(streamError("bad_json", `invalid JSON: ${(error as Error).message}`));
  }
  return parseAppendInput(json, format);
}

/** The ack of an input, in that input's encoding. */
export const renderAck = (ack: AppendAck, binary: boolean): Message =>
  binary ? (encodeAppendAck(ack).buffer as ArrayBuffer) : JSON.stringify({ type: "ack", ack: renderAppendAck(ack) });

/** Applies a socket's messages one at a time, in arrival order, until the first failure or the socket closes. */
class WebSocketAppendSession {
  readonly #queue: Message[] = [];
  #queuedBytes = 0;
  #overloaded = false;
  #draining = false;
  #ended = false;

  constructor(readonly socket: WebSocket, readonly append: SessionAppend, readonly format: RecordFormat) {
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", () => this.#end(CLOSE_NORMAL, "closed by client"));
    socket.addEventListener("error", () => this.#end(CLOSE_INTERNAL_ERROR, "socket error"));
  }

  #receive(message: Message): void {
    if (this.#ended || this.#overloaded) return;
    if (this.#queuedBytes + messageBytes(message) > QUEUED_BYTES_MAX) {
      // Dropped, as is everything after it: the session fails once the inputs queued before are applied.
      this.#overloaded = true;
    } else {
      this.#queue.push(message);
      this.#queuedBytes += messageBytes(message);
    }
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (!this.#ended && this.#queue.length > 0) {
      const message = this.#queue.shift()!;
      this.#queuedBytes -= messageBytes(message);
      const failure = await this.#apply(message);
      if (failure) this.#fail(failure);
    }
    if (!this.#ended && this.#overloaded) {
      this.#fail(streamError("unavailable", `more than ${QUEUED_BYTES_MAX} bytes of inputs were waiting; send slower`));
    }
    this.#draining = false;
  }

  /** Validates and appends one input and sends its ack; the failure, if any. */
  async #apply(message: Message): Promise<StreamError | undefined> {
    const input = parseMessage(message, this.format);
    if (!input.ok) return input.error;
    const ack = await appendSafely(this.append, input.value);
    if (!ack.ok) return ack.error;
    if (!this.#ended) this.#send(renderAck(ack.value, typeof message !== "string"));
    return undefined;
  }

  #fail(failure: StreamError): void {
    const { status, body } = renderS2Error(failure);
    this.#send(`{"type":"error","error":${body}}`);
    this.#end(failure.code === "other" ? CLOSE_INTERNAL_ERROR : CLOSE_STATUS_BASE + status, failure.code);
  }

  #send(message: Message): void {
    try {
      this.socket.send(message);
    } catch {
      // The client closed meanwhile; its close event ends the session.
    }
  }

  #end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.length = 0;
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closed.
    }
  }
}

async function upgradeAppend(c: S2Context): Promise<Response> {
  if (!isUpgrade(c)) {
    return s2ErrorResponse(streamError("bad_header", "Expected `Upgrade: websocket`; HTTP append sessions are `POST …/records` with `Content-Type: s2s/proto`"));
  }
  const query = new URL(c.req.url).searchParams;
  const basin = unwrap(basinOfUpgrade(c, query));
  const name = unwrap(streamParam(c));
  authorize(c, "append", { basin, stream: name });
  const format = unwrap(formatOfUpgrade(c, query));
  const append = await openAppendSession(c, basin, name);

  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  // Binary inputs as ArrayBuffers: with current compatibility dates workerd delivers Blobs by default.
  server.binaryType = "arraybuffer";
  new WebSocketAppendSession(server, append, format);
  return new Response(null, { status: 101, webSocket: client });
}

export const appendWebSocketRoutes = new Hono<AppEnv>()
  .get(APPEND_WEBSOCKET_PATH, upgradeAppend)
  .all(APPEND_WEBSOCKET_PATH, () => new Response(null, { status: 405 }));
