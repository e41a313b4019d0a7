/** Byte helpers that work the same in workerd and Node (no Buffer). */

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as data: record bytes are returned as they were written.
const lossyDecoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** Invalid sequences become U+FFFD, as S2's `raw` format promises (spec §8.5). */
export const fromUtf8Lossy = (bytes: Uint8Array): string => lossyDecoder.decode(bytes);

/** Undefined when the bytes are not valid UTF-8. */
export function fromUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The TC39 base64 methods, native in workerd and about ten times faster than going through a binary string
 * (with a thousand live readers of a base64 stream, encoding was a third of the Worker's CPU); Node 24, where
 * the unit tests run, does not have them yet.
 */
const native = {
  toBase64: (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string }).toBase64,
  fromBase64: (Uint8Array as { fromBase64?: (text: string) => Uint8Array }).fromBase64,
};

/** Standard padded base64 (RFC 4648 §4); undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64_PATTERN.test(text)) return undefined;
  if (native.fromBase64) return native.fromBase64(text);
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  if (native.toBase64) return native.toBase64.call(bytes);
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
