/**
 * Ed25519 webhook signatures (PROTOCOL.md §6.5, §7.1):
 *
 *   Webhook-Signature: t=<unix seconds>,kid=<key id>,ed25519=<unpadded base64url signature of "<t>.<body>">
 *
 * Receivers verify with the public key of that kid from `__ds/jwks.json`. A key's id is derived from its
 * material (an RFC 7638 JWK thumbprint), so it is stable and unique. The private key never leaves the
 * subscription object's storage.
 */
import { toBase64, utf8 } from "../lib/bytes";
import type { SigningKey } from "../storage/subscription-store";

const ED25519 = { name: "Ed25519" } as const;

const base64url = (bytes: Uint8Array): string => toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

export async function newSigningKey(): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  // RFC 7638: the thumbprint covers the required members, in lexicographic order, without whitespace.
  const thumbprint = await crypto.subtle.digest("SHA-256", utf8(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x })));
  return { kid: `ds_${base64url(new Uint8Array(thumbprint)).slice(0, 22)}`, privateJwk, publicJwk };
}

export async function signatureHeader(key: SigningKey, body: string, nowMs: number): Promise<string> {
  const timestamp = Math.floor(nowMs / 1000);
  const privateKey = await crypto.subtle.importKey("jwk", key.privateJwk, ED25519, false, ["sign"]);
  const signature = await crypto.subtle.sign(ED25519, privateKey, utf8(`${timestamp}.${body}`));
  return `t=${timestamp},kid=${key.kid},ed25519=${base64url(new Uint8Array(signature))}`;
}

/** The JWK Set of every key that may have signed a delivery still inside a receiver's replay window. */
export function renderJwks(keys: readonly { kid: string; publicJwk: JsonWebKey }[]) {
  return {
    keys: keys.map(({ kid, publicJwk }) => ({ kty: "OKP", crv: "Ed25519", x: publicJwk.x, kid, use: "sig", alg: "EdDSA" })),
  };
}
