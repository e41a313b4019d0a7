/**
 * Bearer tokens that carry their own signed scope, so the Worker that receives a request can check it
 * without a round trip to a central object:
 *
 *   es1.<base64url(JSON TokenClaims)>.<base64url(HMAC-SHA-256(signing key, "es1." + claims part))>
 *
 * The signing key is derived from the root token (the ROOT_TOKEN secret): rotating the root token revokes
 * every issued token at once. The root token itself is compared in constant time through its digest.
 * Revocation of single tokens is a list the edge refreshes (revocations.ts).
 */
import type { TokenClaims } from "../../domain/access";

const VERSION = "es1";
/** Separates signing from any other use of the root secret. */
const SIGNING_CONTEXT = "edgestream token signing v1:";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function signingKey(rootToken: string): Promise<CryptoKey> {
  let key = keys.get(rootToken);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(SIGNING_CONTEXT + rootToken), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(rootToken, key);
  }
  return key;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export async function signToken(claims: TokenClaims, rootToken: string): Promise<string> {
  const body = `${VERSION}.${toBase64Url(encoder.encode(JSON.stringify(claims)))}`;
  const mac = await crypto.subtle.sign("HMAC", await signingKey(rootToken), encoder.encode(body));
  return `${body}.${toBase64Url(new Uint8Array(mac))}`;
}

/** The claims of a token we signed, or undefined for anything else (forged, truncated, another key). */
export async function verifyToken(token: string, rootToken: string): Promise<TokenClaims | undefined> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
  const claims = fromBase64Url(parts[1]!);
  const mac = fromBase64Url(parts[2]!);
  if (!claims || !mac) return undefined;
  // HMAC verification inside WebCrypto compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", await signingKey(rootToken), mac, encoder.encode(`${parts[0]}.${parts[1]}`));
  if (!valid) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(claims)) as TokenClaims;
  } catch {
    return undefined;
  }
}

const sha256 = async (text: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));

/**
 * Constant-time equality of a presented token and a configured secret: compares fixed-size digests, so
 * neither length nor content leaks.
 */
export async function secretsEqual(presented: string, secret: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(presented), sha256(secret)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/**
 * The outcome of secretsEqual for tokens presented before, per isolate: a client sends the same token with
 * every request, and two digests per request were a few percent of a busy stream's CPU. What it remembers
 * says only whether a token it was shown matched, which its answer said anyway. Bounded, oldest out.
 */
const KNOWN_TOKENS_MAX = 256;
const knownTokens = new Map<string, boolean>();

export async function matchesSecret(presented: string, secret: string): Promise<boolean> {
  const key = `${secret.length}:${secret}\u0000${presented}`;
  const known = knownTokens.get(key);
  if (known !== undefined) return known;
  const equal = await secretsEqual(presented, secret);
  knownTokens.set(key, equal);
  if (knownTokens.size > KNOWN_TOKENS_MAX) knownTokens.delete(knownTokens.keys().next().value!);
  return equal;
}
