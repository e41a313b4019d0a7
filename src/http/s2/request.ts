/**
 * Request plumbing shared by the S2 handlers: the basin a call is scoped to, names from the path, bounded
 * bodies (decoded per `Content-Encoding`, S2-API §1.6), content negotiation, and rendering a StreamError as
 * S2's JSON error response.
 */
import { streamError, type MessageErrorCode, type StreamError } from "../../domain/errors";
import { REQUEST_BODY_BYTES_MAX } from "../../domain/limits";
import { checkBasinName, checkStreamName } from "../../domain/names";
import { streamPrefix } from "../auth/authorize";
import { challenge, WWW_AUTHENTICATE } from "../auth/challenge";
import type { AppContext } from "../context";
import { concatBytes, fromUtf8Strict, utf8 } from "../../lib/bytes";
import { err, ok, type Result } from "../../lib/result";
import { renderS2Error } from "../../protocol/s2/errors";
import { decompress, type Compression } from "../../protocol/compression";
import { requestEncoding } from "../compression";
import { tagErrorCode } from "../metrics/registry";

export type S2Context = AppContext;

export function s2ErrorResponse(error: StreamError): Response {
  const { status, body } = renderS2Error(error);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error.code === "authn") headers[WWW_AUTHENTICATE] = challenge(error);
  return tagErrorCode(new Response(body, { status, headers }), error.code);
}

/** A JSON answer with its length declared, so compressResponses passes a small one on without reading it. */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const body = utf8(JSON.stringify(value));
  return new Response(body, { status, headers: { "content-type": "application/json", "content-length": String(body.length), ...headers } });
}

/**
 * The basin of a basin-scoped call: the `s2-basin` header (as s2-lite), else a `{basin}.<BASIN_DOMAIN>`
 * host (as s2.dev's `{basin}.b.s2.dev`), else `400 bad_header` (S2-API §1.1).
 */
export function basinOf(c: S2Context): Result<string, StreamError> {
  const header = c.req.header("s2-basin");
  if (header !== undefined) {
    const problem = checkBasinName(header.trim());
    return problem ? err(streamError("bad_header", `s2-basin: ${problem}`)) : ok(header.trim());
  }
  const host = (c.req.header("host") ?? new URL(c.req.url).host).replace(/:\d+$/, "");
  const suffix = `.${c.env.BASIN_DOMAIN ?? "localhost"}`;
  if (host.endsWith(suffix)) {
    const basin = host.slice(0, -suffix.length);
    if (!checkBasinName(basin)) return ok(basin);
  }
  return err(streamError("bad_header", "Missing header `s2-basin`"));
}

/** Path parameters arrive percent-decoded (`a%2Fb` → `a/b`), as S2 clients encode stream names. */
export function basinParam(c: S2Context): Result<string, StreamError> {
  const name = c.req.param("basin") ?? "";
  const problem = checkBasinName(name);
  return problem ? err(streamError("bad_path", problem)) : ok(name);
}

/** The stored name: an auto-prefixing token's prefix comes first (S2-API §6.2). */
export function streamParam(c: S2Context): Result<string, StreamError> {
  const requested = c.req.param("stream") ?? "";
  const name = streamPrefix(c.get("principal")) + requested;
  const problem = checkStreamName(requested) ?? checkStreamName(name);
  return problem ? err(streamError("bad_path", problem)) : ok(name);
}

/**
 * Compressed bodies may exceed the decoded limit by a little (incompressible data grows by the codec's framing:
 * well under 1 KiB per MiB for gzip, about 8 KiB for 2 MiB of zstd), never by more than this.
 */
const ENCODED_BODY_SLACK_BYTES = 16 * 1024;

/**
 * A refused body whose declared length is at most this is read and dropped before the refusal goes out: an
 * HTTP/1.1 client that sends its whole body before reading the answer (fetch does) otherwise sees the
 * connection reset instead of the error, because the runtime closes a connection whose request body is left
 * unread. A larger declared body, or a body without a length that runs past the limit, is cut off at once.
 */
const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;

async function discard(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  while (!(await reader.read()).done);
}

/**
 * Reads the body, refusing more than the unary limit before buffering it whole, and decodes a
 * `Content-Encoding: zstd|gzip` body (S2-API §1.6), bounding the decoded size before it is allocated.
 * Any failure of the body itself is `code` (the caller's bad_json / bad_proto); an unknown coding is bad_header.
 */
export async function readBody(c: S2Context, code: MessageErrorCode): Promise<Result<Uint8Array, StreamError>> {
  const encoding = requestEncoding(c.req.header("content-encoding"));
  if (!encoding.ok) return err(streamError("bad_header", encoding.error));
  const coding = encoding.value;
  const limit = REQUEST_BODY_BYTES_MAX + (coding === "none" ? 0 : ENCODED_BODY_SLACK_BYTES);
  const length = c.req.header("content-length");
  const declared = Number(length ?? "0");
  const refusal = streamError(code, `request body exceeds ${REQUEST_BODY_BYTES_MAX} bytes`);
  const body = c.req.raw.body;
  if (!body) return ok(new Uint8Array());
  // A declared length within the limit is all the runtime will deliver: one native read, no chunk loop.
  if (length !== undefined && declared <= limit) return decodeBody(new Uint8Array(await c.req.raw.arrayBuffer()), coding, code);
  const reader = body.getReader();
  if (declared > limit) {
    if (declared <= REFUSED_BODY_DRAIN_BYTES) await discard(reader);
    else await reader.cancel();
    return err(refusal);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      return err(refusal);
    }
    chunks.push(value);
  }
  return decodeBody(concatBytes(chunks), coding, code);
}

function decodeBody(raw: Uint8Array, coding: Compression, code: MessageErrorCode): Result<Uint8Array, StreamError> {
  if (coding === "none" || raw.length === 0) return ok(raw);
  const plain = decompress(raw, coding, REQUEST_BODY_BYTES_MAX);
  return plain.ok ? plain : err(streamError(code, `request body (Content-Encoding: ${coding}): ${plain.error}`));
}

/** First media type of a header, lowercased, parameters dropped (S2-API §1.5). */
export function firstMediaType(value: string | undefined): string {
  return (value ?? "").split(",")[0]!.split(";")[0]!.trim().toLowerCase();
}

export const isJsonType = (type: string) => type === "application/json" || /^application\/[^/]+\+json$/.test(type);
export const isProtoType = (type: string) => type === "application/protobuf" || type === "application/x-protobuf";

/** A JSON body, or `400 bad_json`; an empty body is `undefined` when the caller allows one. */
export async function readJsonBody(c: S2Context, options: { optional: boolean }): Promise<Result<unknown, StreamError>> {
  const type = firstMediaType(c.req.header("content-type"));
  const body = await readBody(c, "bad_json");
  if (!body.ok) return body;
  if (body.value.length === 0 && options.optional) return ok(undefined);
  if (!isJsonType(type)) return err(streamError("bad_json", "Expected request with `Content-Type: application/json`"));
  // JSON text is UTF-8 (RFC 8259 §8.1): a lenient decode would store U+FFFD in place of the client's bytes.
  const text = fromUtf8Strict(body.value);
  if (text === undefined) return err(streamError("bad_json", "request body is not valid UTF-8"));
  try {
    return ok(JSON.parse(text));
  } catch (error) {
    return err(streamError("bad_json", `invalid JSON: ${(error as Error).message}`));
  }
}
