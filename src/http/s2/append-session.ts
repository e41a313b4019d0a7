/**
 * S2S append sessions (S2-API §12.3): `POST /streams/{stream}/records` with `Content-Type: s2s/proto`. The
 * request body is a stream of AppendInput frames, the response body a stream of AppendAck frames:
 *
 *   client ──▶ [AppendInput]₁ [AppendInput]₂ [AppendInput]₃ …  (end of body = end of session)
 *   server ◀── [AppendAck]₁   [AppendAck]₂   [AppendAck]₃   …  (end of body after the last ack)
 *                                  └── or, at the first failure: the acks still due, one terminal frame, end
 *
 * Invariants:
 * - Inputs are applied in arrival order, one stream RPC after the other: each is validated exactly as a unary
 *   append (the `SessionAppend` the route supplies), and its conditions see every earlier input of the session,
 *   because the stream's object is the single writer and the previous RPC has returned before the next starts.
 *   The client still pipelines: later frames wait in the transport's buffers while an RPC is in flight. (True
 *   server-side pipelining, several RPCs in flight, would need the object to refuse a session's later inputs
 *   once one failed, as s2-lite's SessionHandle does; one RPC at a time gives that for free.)
 * - Acks are written in input order, each only after its RPC returned, i.e. after the commit is durable (the
 *   object's output gate holds the reply until then).
 * - The first failure ends the session: a malformed frame (400 bad_frame), an undecodable message (400
 *   bad_proto), a rejected input (its unary status and body) or an infrastructure failure (500 other). Nothing
 *   after the failing input is applied; the rest of the request body is discarded unread.
 * - Acks are smaller than COMPRESSION_MIN_BYTES, so they always travel uncompressed; client frames may use any
 *   of the three encodings.
 *
 * The same sequencing serves the WebSocket transport (append-websocket.ts) through `SessionAppend`.
 */
import { streamError, type StreamError } from "../../domain/errors";
import type { AppendAck, AppendInput } from "../../domain/types";
import { err, type Result } from "../../lib/result";
import type { Compression } from "../../protocol/compression";
import { decodeAppendInput, encodeAppendAck } from "../../protocol/s2/proto";
import { encodeMessage, FrameDecoder, openMessage, renderErrorFrame, S2S_CONTENT_TYPE, type Frame } from "../../protocol/s2/s2s";
import { STREAMING_HEADERS } from "./read-responses";
import { Rejection } from "../rejection";

/** One input of a session: the unary append's validation and authorization, then the stream's append RPC. */
export type SessionAppend = (input: AppendInput) => Promise<Result<AppendAck, StreamError>>;

/** The AppendInput a client frame carries, or the error that ends the session (S2-API §12.2). */
export function sessionInput(frame: Frame): Result<AppendInput, StreamError> {
  if (frame.terminal) return err(streamError("bad_frame", "S2S append sessions take no terminal frames from the client"));
  const message = openMessage(frame);
  if (!message.ok) return err(streamError("bad_frame", message.error));
  const input = decodeAppendInput(message.value);
  return input.ok ? input : err(streamError("bad_proto", input.error));
}

/** What an append that threw (rather than returned an Err) tells the client: its rejection, or a bare 500. */
export function appendFailure(error: unknown): StreamError {
  if (error instanceof Rejection) return error.error;
  console.error("append session failed", error);
  return streamError("other", "append session failed");
}

/**
 * The response of an S2S append session; the session runs while its body streams. `keepAlive` receives the
 * session's promise (the Worker's `waitUntil`), so the runtime never ends the request while the session runs.
 */
export function s2sAppendResponse(
  body: ReadableStream<Uint8Array> | null, append: SessionAppend, compression: Compression,
  keepAlive: (session: Promise<void>) => void = () => undefined,
): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  keepAlive(runS2sAppendSession(body, append, compression, writable.getWriter()));
  return new Response(readable, { headers: { "content-type": S2S_CONTENT_TYPE, ...STREAMING_HEADERS } });
}

/**
 * Reads frames from `body` until it ends or the session fails, writing one ack frame per applied input and,
 * after a failure, one terminal frame. Closes `out` when done; never throws.
 */
export async function runS2sAppendSession(
  body: ReadableStream<Uint8Array> | null,
  append: SessionAppend,
  compression: Compression,
  out: WritableStreamDefaultWriter<Uint8Array>,
): Promise<void> {
  const reader = body?.getReader();
  const decoder = new FrameDecoder();
  let failure: StreamError | undefined;
  let clientGone = false;
  // Writes are queued, not awaited one by one: the next RPC may start while an ack is still being sent.
  const send = (bytes: Uint8Array) => void out.write(bytes).catch(() => (clientGone = true));
  try {
    while (reader && failure === undefined && !clientGone) {
      // Backpressure: a client that does not read its acks stops the session from reading more inputs.
      await out.ready;
      const { done, value } = await reader.read();
      if (done) {
        const end = decoder.finish();
        if (!end.ok) failure = streamError("bad_frame", end.error);
        break;
      }
      decoder.push(value);
      failure = await applyFrames(decoder, append, (ack) => send(encodeMessage(encodeAppendAck(ack), compression)));
    }
  } catch {
    // The request body errored or the response was cancelled: the client went away, nobody is left to answer.
    clientGone = true;
  }
  if (failure !== undefined && !clientGone) send(renderErrorFrame(failure));
  await reader?.cancel().catch(() => undefined);
  await out.close().catch(() => undefined);
}

/** Applies every complete frame buffered in `decoder`, in order; the first failure, or undefined. */
async function applyFrames(
  decoder: FrameDecoder, append: SessionAppend, acknowledge: (ack: AppendAck) => void,
): Promise<StreamError | undefined> {
  for (;;) {
    const next = decoder.next();
    if (!next.ok) return streamError("bad_frame", next.error);
    if (next.value === undefined) return undefined;
    const input = sessionInput(next.value);
    if (!input.ok) return input.error;
    const ack = await appendSafely(append, input.value);
    if (!ack.ok) return ack.error;
    acknowledge(ack.value);
  }
}

/** The append's outcome as a Result, whether it returned an Err or threw. */
export async function appendSafely(append: SessionAppend, input: AppendInput): Promise<Result<AppendAck, StreamError>> {
  try {
    return await append(input);
  } catch (error) {
    return err(appendFailure(error));
  }
}
