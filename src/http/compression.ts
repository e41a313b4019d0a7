/**
 * HTTP compression of unary S2 calls (S2-API §1.6):
 *
 * - request bodies sent with `Content-Encoding: zstd` or `gzip` are decoded by `readBody` (request.ts) through
 *   `requestEncoding` + `decompress`, the decoded size bounded by the 2 MiB body limit before it is allocated;
 * - response bodies over 1 KiB are compressed with zstd or gzip per the client's `Accept-Encoding`
 *   (`compressResponses`), except event streams and S2S, which are never buffered here: S2S compresses per
 *   frame instead (§12.2), SSE is a live stream. Only JSON and protobuf bodies, which are whole unary answers
 *   in this API, are compressed: anything else passes through untouched.
 *
 * Cloudflare rewrites `Accept-Encoding` before the Worker sees it (and miniflare does the same locally), so the
 * client's own value is read from `cf.clientAcceptEncoding` first.
 */
import type { MiddlewareHandler } from "hono";
import { err, ok, type Result } from "../lib/result";
import { compress, negotiateCompression, type Compression } from "../protocol/compression";
import type { AppEnv } from "./context";

/** Smaller bodies are sent as they are: compressing them gains next to nothing (s2-lite uses the same bound). */
export const RESPONSE_COMPRESSION_MIN_BYTES = 1024;

/** Media types of whole, finite response bodies; everything else (SSE, S2S, WebSocket upgrades) is skipped. */
const COMPRESSIBLE_TYPES = new Set(["application/json", "application/protobuf", "application/x-protobuf"]);

/** What the client itself accepts: Cloudflare keeps it in `cf.clientAcceptEncoding` and rewrites the header. */
export function clientAcceptEncoding(request: Request): string | undefined {
  const original = request.cf?.clientAcceptEncoding;
  return typeof original === "string" ? original : (request.headers.get("accept-encoding") ?? undefined);
}

/**
 * The coding of a request body. Only one coding is supported (S2 clients never stack them); `identity` or no
 * header means none.
 */
export function requestEncoding(contentEncoding: string | undefined): Result<Compression, string> {
  const coding = (contentEncoding ?? "").trim().toLowerCase();
  switch (coding) {
    case "":
    case "identity":
      return ok("none");
    case "gzip":
    case "x-gzip":
      return ok("gzip");
    case "zstd":
      return ok("zstd");
    default:
      return err(`Content-Encoding: unsupported value \`${contentEncoding}\` (expected zstd or gzip)`);
  }
}

const mediaType = (value: string | null) => (value ?? "").split(";")[0]!.trim().toLowerCase();

/** Compresses finished unary responses as the client accepts; leaves every other response as it is. */
export const compressResponses: MiddlewareHandler<AppEnv> = async function compressResponses(c, next) {
  await next();
  const res = c.res;
  if (!res.body || !COMPRESSIBLE_TYPES.has(mediaType(res.headers.get("content-type")))) return;
  if (res.headers.has("content-encoding")) return;
  // A body declared small stays as it is whatever the client accepts: no need to read it, or `cf`, whose
  // first access per request deserializes the whole object (~0.1 ms here).
  const declared = res.headers.get("content-length");
  if (declared !== null && Number(declared) <= RESPONSE_COMPRESSION_MIN_BYTES) return;
  const compression = negotiateCompression(clientAcceptEncoding(c.req.raw));
  if (compression === "none") return;
  const body = new Uint8Array(await res.arrayBuffer());
  const headers = new Headers(res.headers);
  headers.append("vary", "Accept-Encoding");
  let payload: Uint8Array = body;
  if (body.length > RESPONSE_COMPRESSION_MIN_BYTES) {
    payload = compress(body, compression);
    headers.set("content-encoding", compression);
    headers.delete("content-length");
  }
  // Reset first: Hono's setter would otherwise copy the old headers over the new ones.
  c.res = undefined;
  // `manual`: the bytes are already encoded; workerd must not encode them again per Content-Encoding.
  c.res = new Response(payload, { status: res.status, statusText: res.statusText, headers, encodeBody: "manual" });
};
