/**
 * Revoked token ids, as this isolate last saw them. Verifying a token needs no round trip; instead each
 * isolate refreshes this list from the AccountObject at most every REVOCATION_REFRESH_MS, so a revocation
 * reaches every Worker within that bound (plus one refresh round trip). A revocation made through this
 * isolate applies here at once.
 */
import { accountStub, type Env } from "../../env";

export const REVOCATION_REFRESH_MS = 5_000;

let revoked = new Set<string>();
let fetchedAtMs = -Infinity;
let refreshing: Promise<void> | undefined;

async function refresh(env: Env): Promise<void> {
  revoked = new Set(await accountStub(env).revokedTokenIds());
  fetchedAtMs = Date.now();
}

export async function isRevoked(env: Env, tokenId: string): Promise<boolean> {
  if (Date.now() - fetchedAtMs >= REVOCATION_REFRESH_MS) {
    // One refresh at a time per isolate, however many requests find the list stale.
    refreshing ??= refresh(env).finally(() => (refreshing = undefined));
    await refreshing;
  }
  return revoked.has(tokenId);
}

export function noteRevoked(tokenId: string): void {
  revoked.add(tokenId);
}
