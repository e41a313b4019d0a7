/**
 * The two compressions S2 speaks, zstd and gzip (S2-API §1.6, §12.2): choosing one from `Accept-Encoding`, and
 * one-shot codecs. S2S frames use them per message; HTTP `Content-Encoding` will reuse them.
 *
 * Both codecs come from `node:zlib`, which workerd provides under `nodejs_compat` (wrangler.toml) and Node has
 * natively (zstd since 22.15). One module for both keeps one behaviour everywhere, and, unlike fflate's gunzip,
 * its `maxOutputLength` bounds decompression before the output is allocated, so a small hostile frame cannot
 * inflate into gigabytes.
 */
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { err, ok, type Result } from "../lib/result";

export type Compression = "none" | "zstd" | "gzip";

/**
 * zstd if `Accept-Encoding` lists it anywhere, else gzip if listed, else none. q-values are ignored, as S2 does
 * (s2-lite `CompressionAlgorithm::from_accept_encoding`): a client that names an encoding can decode it.
 */
export function negotiateCompression(acceptEncoding: string | null | undefined): Compression {
  let gzip = false;
  for (const entry of (acceptEncoding ?? "").split(",")) {
    const coding = entry.split(";")[0]!.trim().toLowerCase();
    if (coding === "zstd") return "zstd";
    if (coding === "gzip") gzip = true;
  }
  return gzip ? "gzip" : "none";
}

export function compress(bytes: Uint8Array, compression: Compression): Uint8Array {
  switch (compression) {
    case "none":
      return bytes;
    case "zstd":
      return exact(zstdCompressSync(bytes));
    case "gzip":
      return exact(gzipSync(bytes));
  }
}

/** The original bytes, or an Err when the input is corrupt or would decompress to more than `maxBytes`. */
export function decompress(bytes: Uint8Array, compression: Compression, maxBytes: number): Result<Uint8Array, string> {
  try {
    switch (compression) {
      case "none":
        return bytes.length > maxBytes ? err(`payload exceeds ${maxBytes} bytes`) : ok(bytes);
      case "zstd":
        return ok(exact(zstdDecompressSync(bytes, { maxOutputLength: maxBytes })));
      case "gzip":
        return ok(exact(gunzipSync(bytes, { maxOutputLength: maxBytes })));
    }
  } catch (e) {
    // zlib signals the bound with a RangeError; anything else is corrupt input.
    if (e instanceof RangeError) return err(`${compression} payload decompresses to more than ${maxBytes} bytes`);
    return err(`invalid ${compression} payload: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * A plain Uint8Array that owns exactly its bytes. Node returns Buffers, and small ones are slices of a shared
 * 8 KiB pool that would be pinned (or cloned whole across an RPC) by anyone holding the view.
 */
function exact(view: Uint8Array): Uint8Array {
  if (view.byteOffset === 0 && view.buffer.byteLength === view.byteLength && view.constructor === Uint8Array) return view;
  return new Uint8Array(view);
}
