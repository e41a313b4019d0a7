// Signed access tokens (src/http/auth/tokens.ts): the claims survive a round trip, anything else — tampered
// claims or signature, another root key, a mangled shape — verifies as nothing; secrets compare exactly.
import { describe, expect, it } from "vitest";
import type { TokenClaims } from "../../src/domain/access";
import { matchesSecret, secretsEqual, signToken, verifyToken } from "../../src/http/auth/tokens";

const ROOT = "unit-root-token-abcdef";

const claims: TokenClaims = {
  id: "svc-ünï/1",
  scope: {
    basins: { kind: "prefix", prefix: "team-" },
    streams: { kind: "exact", name: "logs/app" },
    accessTokens: { kind: "none" },
    opGroups: {
      account: { read: true, write: false },
      basin: { read: false, write: false },
      stream: { read: true, write: true },
    },
    ops: ["append", "fence"],
  },
  autoPrefixStreams: false,
  expiresAtMs: Date.UTC(2031, 5, 1),
};

const b64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

describe("signToken / verifyToken", () => {
  it("round-trips the claims exactly", async () => {
    const token = await signToken(claims, ROOT);
    expect(await verifyToken(token, ROOT)).toEqual(claims);
    const never = { ...claims, expiresAtMs: null, autoPrefixStreams: true };
    expect(await verifyToken(await signToken(never, ROOT), ROOT)).toEqual(never);
  });

  it("is `es1.<claims>.<mac>` in URL-safe base64, usable as a bearer token", async () => {
    const token = await signToken(claims, ROOT);
    expect(token).toMatch(/^es1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // The header grammar of authenticate.ts: visible ASCII only.
    expect(token).toMatch(/^[\x21-\x7e]+$/);
    expect(token).not.toContain(ROOT);
  });

  it("refuses claims someone edited, keeping the original signature", async () => {
    const [version, , mac] = (await signToken(claims, ROOT)).split(".");
    const widened = { ...claims, scope: { ...claims.scope, basins: { kind: "prefix", prefix: "" } } };
    expect(await verifyToken(`${version}.${b64url(JSON.stringify(widened))}.${mac}`, ROOT)).toBeUndefined();
    const immortal = { ...claims, expiresAtMs: null };
    expect(await verifyToken(`${version}.${b64url(JSON.stringify(immortal))}.${mac}`, ROOT)).toBeUndefined();
  });

  it("refuses a changed signature, in any position", async () => {
    const token = await signToken(claims, ROOT);
    const [version, body, mac] = token.split(".") as [string, string, string];
    for (const index of [0, Math.floor(mac.length / 2), mac.length - 2]) {
      const flipped = mac.slice(0, index) + (mac[index] === "A" ? "B" : "A") + mac.slice(index + 1);
      expect(await verifyToken(`${version}.${body}.${flipped}`, ROOT)).toBeUndefined();
    }
    expect(await verifyToken(`${version}.${body}.`, ROOT)).toBeUndefined();
    expect(await verifyToken(`${version}.${body}.${mac.slice(0, -4)}`, ROOT)).toBeUndefined();
  });

  it("refuses a token signed under another root token", async () => {
    const foreign = await signToken(claims, "some-other-root-token");
    expect(await verifyToken(foreign, ROOT)).toBeUndefined();
    expect(await verifyToken(await signToken(claims, ROOT), `${ROOT}x`)).toBeUndefined();
  });

  it("refuses mangled shapes", async () => {
    const token = await signToken(claims, ROOT);
    const [, body, mac] = token.split(".") as [string, string, string];
    for (const bad of [
      "", "es1", "es1..", `es2.${body}.${mac}`, `${body}.${mac}`, `es1.${body}.${mac}.extra`, `es1.${body}+.${mac}`,
      `es1.${body}.${mac}=`, `ES1.${body}.${mac}`, ROOT, `Bearer ${token}`,
    ]) {
      expect(await verifyToken(bad, ROOT), bad.slice(0, 40)).toBeUndefined();
    }
  });

  it("the root token itself is not a signed token", async () => {
    expect(await verifyToken(ROOT, ROOT)).toBeUndefined();
  });
});

describe("secretsEqual", () => {
  it("is exact equality", async () => {
    expect(await secretsEqual(ROOT, ROOT)).toBe(true);
    expect(await secretsEqual("", "")).toBe(true);
    expect(await secretsEqual(ROOT, `${ROOT} `)).toBe(false);
    expect(await secretsEqual(ROOT, ROOT.slice(0, -1))).toBe(false);
    expect(await secretsEqual(ROOT, ROOT.toUpperCase())).toBe(false);
    expect(await secretsEqual("", "a")).toBe(false);
    expect(await secretsEqual("é", "e\u0301")).toBe(false);
  });
});

describe("matchesSecret", () => {
  it("answers as secretsEqual, the first time and from memory, per secret", async () => {
    for (let round = 0; round < 2; round++) {
      expect(await matchesSecret(ROOT, ROOT)).toBe(true);
      expect(await matchesSecret(`${ROOT}x`, ROOT)).toBe(false);
      expect(await matchesSecret(ROOT, `${ROOT}x`)).toBe(false);
      expect(await matchesSecret("", ROOT)).toBe(false);
    }
  });

  it("forgets the oldest of many presented tokens and still answers right", async () => {
    for (let i = 0; i < 300; i++) expect(await matchesSecret(`guess-${i}`, ROOT)).toBe(false);
    expect(await matchesSecret(ROOT, ROOT)).toBe(true);
  });
});
