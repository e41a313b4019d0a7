// The access-token API (S2-API §6.2): issue, list, revoke — validation, rendering, pagination, and a token
// acting on tokens only within its own scope.
import { describe, expect, it } from "vitest";
import { as, expectAuthn, expectDenied, issue, issueRaw, tokenId, type ScopeJson } from "./auth-helpers";
import { call, expectS2Error, expectStatus } from "./helpers";

interface TokenInfo {
  id: string;
  expires_at: string | null;
  auto_prefix_streams: boolean;
  scope: Record<string, unknown>;
}
interface TokenList { access_tokens: TokenInfo[]; has_more: boolean }

const list = async (query: string, token?: string): Promise<TokenList> =>
  (await expectStatus(token ? await as(token, `/access-tokens?${query}`) : await call(`/access-tokens?${query}`), 200)) as TokenList;
const ids = (page: TokenList) => page.access_tokens.map((t) => t.id);
const revoke = (id: string, token?: string) =>
  token ? as(token, `/access-tokens/${encodeURIComponent(id)}`, { method: "DELETE" }) : call(`/access-tokens/${encodeURIComponent(id)}`, { method: "DELETE" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("issue", () => {
  it("answers 201 {access_token} with a token that works at once", async () => {
    const token = await issue({ ops: ["list-access-tokens"] });
    await expectStatus(await as(token, "/access-tokens"), 200);
  });

  it("refuses empty permissions: 422 invalid with S2's message", async () => {
    for (const scope of [{ ops: [] }, { ops: null, op_groups: null }, { op_groups: { account: { read: false, write: false } } }] as ScopeJson[]) {
      const body = await expectS2Error(await issueRaw(scope), 422, "invalid");
      expect(body.message).toBe("Access token permissions cannot be empty");
    }
  });

  it("refuses auto_prefix_streams without a streams prefix: 422 invalid with S2's message", async () => {
    for (const streams of [{ exact: "s" }, null]) {
      const body = await expectS2Error(await issueRaw({ streams, ops: ["read"] }, { auto_prefix_streams: true }), 422, "invalid");
      expect(body.message).toBe("Auto prefixing is only allowed for streams with prefix matching");
    }
  });

  it("refuses a bad id with 422 invalid: empty, `.`, `..`, more than 96 bytes", async () => {
    for (const id of ["", ".", "..", "x".repeat(97), "é".repeat(49)]) {
      await expectS2Error(await issueRaw({ ops: ["read"] }, { id }), 422, "invalid");
    }
    await issue({ ops: ["read"] }, { id: `${tokenId()}-${"é".repeat(40)}` });
  });

  it("refuses malformed bodies with 400 bad_json", async () => {
    const bodies: unknown[] = [
      { scope: { ops: ["read"] } },
      { id: tokenId() },
      { id: tokenId(), scope: { ops: ["no-such-op"] } },
      { id: tokenId(), scope: { ops: "read" } },
      { id: tokenId(), scope: { ops: ["read"], basins: {} } },
      { id: tokenId(), scope: { ops: ["read"], basins: { exact: 1 } } },
      { id: tokenId(), scope: { op_groups: { stream: { read: "yes" } } } },
      { id: tokenId(), scope: { ops: ["read"] }, expires_at: "next tuesday" },
      { id: tokenId(), scope: { ops: ["read"] }, auto_prefix_streams: "true" },
      [],
    ];
    for (const json of bodies) await expectS2Error(await call("/access-tokens", { method: "POST", json }), 400, "bad_json");
  });

  it("refuses an expiry in the past with 422 invalid", async () => {
    await expectS2Error(await issueRaw({ ops: ["read"] }, { expires_at: new Date(Date.now() - 60_000).toISOString() }), 422, "invalid");
  });

  it("refuses a duplicate id with 409 resource_already_exists, keeping the first token valid", async () => {
    const id = tokenId("dup");
    const first = await issue({ ops: ["list-basins"] }, { id });
    await expectS2Error(await issueRaw({ ops: ["read", "append"] }, { id }), 409, "resource_already_exists");
    await expectStatus(await as(first, "/basins"), 200);
    expect((await list(`prefix=${id}`)).access_tokens[0]?.scope.ops).toEqual(["list-basins"]);
  });
});

describe("list", () => {
  it("renders AccessTokenInfo: none sets null, all op_groups with both booleans, ops an array", async () => {
    const id = tokenId("render");
    const expiresAt = new Date(Date.now() + 3_600_000);
    await issue({ basins: { exact: "some-basin-1" }, op_groups: { stream: { read: true } } },
      { id, literal: true, expires_at: expiresAt.toISOString() });
    expect((await list(`prefix=${id}`)).access_tokens).toEqual([{
      id,
      expires_at: expect.any(String),
      auto_prefix_streams: false,
      scope: {
        basins: { exact: "some-basin-1" },
        streams: null,
        access_tokens: null,
        op_groups: { account: { read: false, write: false }, basin: { read: false, write: false }, stream: { read: true, write: false } },
        ops: [],
      },
    }]);
    const listed = (await list(`prefix=${id}`)).access_tokens[0]!;
    expect(listed.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Date.parse(listed.expires_at!)).toBe(expiresAt.getTime());
  });

  it("renders prefix sets, ops, auto_prefix_streams and a null expiry", async () => {
    const id = tokenId("render2");
    await issue({ streams: { prefix: "tenant/" }, access_tokens: { prefix: "" }, ops: ["append", "read"] }, { id, literal: true, auto_prefix_streams: true });
    expect((await list(`prefix=${id}`)).access_tokens).toEqual([{
      id,
      expires_at: null,
      auto_prefix_streams: true,
      scope: {
        basins: null,
        streams: { prefix: "tenant/" },
        access_tokens: { prefix: "" },
        op_groups: { account: { read: false, write: false }, basin: { read: false, write: false }, stream: { read: false, write: false } },
        ops: ["append", "read"],
      },
    }]);
  });

  it("pages by prefix, start_after and limit with has_more", async () => {
    const p = tokenId("page");
    for (const suffix of ["a", "b", "c"]) await issue({ ops: ["read"] }, { id: `${p}-${suffix}` });
    expect(ids(await list(`prefix=${p}`))).toEqual([`${p}-a`, `${p}-b`, `${p}-c`]);
    const first = await list(`prefix=${p}&limit=2`);
    expect([ids(first), first.has_more]).toEqual([[`${p}-a`, `${p}-b`], true]);
    const second = await list(`prefix=${p}&limit=2&start_after=${p}-b`);
    expect([ids(second), second.has_more]).toEqual([[`${p}-c`], false]);
    expect(ids(await list(`prefix=${p}-b`))).toEqual([`${p}-b`]);
  });

  it("does not list revoked or expired tokens", async () => {
    const p = tokenId("gone");
    await issue({ ops: ["read"] }, { id: `${p}-kept` });
    await issue({ ops: ["read"] }, { id: `${p}-revoked` });
    await issue({ ops: ["read"] }, { id: `${p}-expiring`, expires_at: new Date(Date.now() + 1_500).toISOString() });
    await expectStatus(await revoke(`${p}-revoked`), 204);
    expect(ids(await list(`prefix=${p}`))).toEqual([`${p}-expiring`, `${p}-kept`]);
    await sleep(1_700);
    expect(ids(await list(`prefix=${p}`))).toEqual([`${p}-kept`]);
  });

  it("refuses a prefix longer than 96 bytes with 400 bad_query", async () => {
    await expectS2Error(await call(`/access-tokens?prefix=${"x".repeat(97)}`), 400, "bad_query");
  });
});

describe("revoke", () => {
  it("answers 204 and the token is refused from then on", async () => {
    const id = tokenId("rv");
    const token = await issue({ ops: ["list-basins"] }, { id });
    expect(await (await revoke(id)).text()).toBe("");
    await expectAuthn(await as(token, "/basins"), token);
  });

  it("unknown or already revoked ids are 404 access_token_not_found", async () => {
    await expectS2Error(await revoke(tokenId("never")), 404, "access_token_not_found");
    const id = tokenId("twice");
    await issue({ ops: ["read"] }, { id });
    await expectStatus(await revoke(id), 204);
    await expectS2Error(await revoke(id), 404, "access_token_not_found");
  });

  it("ids are percent-decoded from the path", async () => {
    const id = `${tokenId("slash")}/x y`;
    await issue({ ops: ["read"] }, { id });
    await expectStatus(await revoke(id), 204);
    expect(ids(await list(`prefix=${encodeURIComponent(id)}`))).toEqual([]);
  });

  it("an id longer than 96 bytes in the path is 400 bad_path (S2-API §2.2, §3)", async () => {
    await expectS2Error(await revoke("x".repeat(97)), 400, "bad_path");
  });
});

describe("tokens acting on tokens", () => {
  const manager = (p: string, extra: ScopeJson = {}) =>
    issue({ access_tokens: { prefix: `${p}-` }, basins: { prefix: "" }, streams: { prefix: "svc/" }, ops: ["issue-access-token", "revoke-access-token", "list-access-tokens", "read"], ...extra });

  it("a token issues tokens within its scope; the child works", async () => {
    const p = tokenId("mgr");
    const token = await manager(p);
    const child = await issue({ streams: { prefix: "svc/a/" }, access_tokens: null, ops: ["read"] }, { id: `${p}-child`, as: token });
    const body = await expectStatus(await as(child, "/basins"), 403);
    expect(body).toMatchObject({ code: "permission_denied" });
    expect(ids(await list(`prefix=${p}-child`))).toEqual([`${p}-child`]);
  });

  it("a token cannot issue broader ops, resources or ids than its own: 403 permission_denied", async () => {
    const p = tokenId("mgr");
    const token = await manager(p);
    const broader: [ScopeJson, string][] = [
      [{ streams: { prefix: "svc/" }, access_tokens: null, ops: ["append"] }, `${p}-ops`],
      [{ streams: { prefix: "svc/" }, access_tokens: null, op_groups: { stream: { read: true } } }, `${p}-group`],
      [{ streams: { prefix: "" }, access_tokens: null, ops: ["read"] }, `${p}-streams`],
      [{ streams: { prefix: "svc/" }, access_tokens: { prefix: "" }, ops: ["read"] }, `${p}-tokens`],
      [{ streams: { prefix: "svc/" }, access_tokens: null, ops: ["read"] }, `other-${p}`],
    ];
    for (const [scope, id] of broader) {
      await expectDenied(await issueRaw(scope, { id, as: token }), token);
    }
    expect(ids(await list(`prefix=${p}`))).toEqual([]);
  });

  it("a child's expiry defaults to the issuer's and may not exceed it", async () => {
    const p = tokenId("exp");
    const expiresAt = new Date(Date.now() + 3_600_000);
    const token = await issue({ access_tokens: { prefix: `${p}-` }, ops: ["issue-access-token", "read"] }, { expires_at: expiresAt.toISOString() });
    await issue({ access_tokens: null, ops: ["read"] }, { id: `${p}-default`, as: token });
    expect(Date.parse((await list(`prefix=${p}-default`)).access_tokens[0]!.expires_at!)).toBe(expiresAt.getTime());
    const later = new Date(expiresAt.getTime() + 60_000).toISOString();
    await expectDenied(await issueRaw({ access_tokens: null, ops: ["read"] }, { id: `${p}-later`, as: token, expires_at: later }), token);
    // An explicit null is "not set" too (the SDK's reading): the child still expires with its issuer.
    await issue({ access_tokens: null, ops: ["read"] }, { id: `${p}-null`, as: token, expires_at: null });
    expect(Date.parse((await list(`prefix=${p}-null`)).access_tokens[0]!.expires_at!)).toBe(expiresAt.getTime());
  });

  it("a token revokes only ids in its access_tokens set", async () => {
    const p = tokenId("mgr");
    const token = await manager(p);
    await issue({ ops: ["read"] }, { id: `${p}-mine` });
    await issue({ ops: ["read"] }, { id: `${p}x-theirs` });
    await expectStatus(await revoke(`${p}-mine`, token), 204);
    await expectDenied(await revoke(`${p}x-theirs`, token), token);
    // Unknown ids outside the scope are 403 too: a token learns nothing about ids it may not see.
    await expectDenied(await revoke(`elsewhere-${p}`, token), token);
    expect(ids(await list(`prefix=${p}`))).toEqual([`${p}x-theirs`]);
  });

  it("a token lists only ids in its access_tokens set", async () => {
    const p = tokenId("mgr");
    const token = await manager(p);
    await issue({ ops: ["read"] }, { id: `${p}-one` });
    await issue({ ops: ["read"] }, { id: `${p}x-other` });
    expect(ids(await list(`prefix=${p}`, token))).toEqual([`${p}-one`]);
    expect(ids(await list(`prefix=${p}`))).toEqual([`${p}-one`, `${p}x-other`]);
  });

  it("a token's filtered listing still pages correctly: limit counts visible ids only", async () => {
    const p = tokenId("pg");
    const token = await issue({ access_tokens: { prefix: `${p}-b` }, ops: ["list-access-tokens"] });
    await issue({ ops: ["read"] }, { id: `${p}-a1` });
    await issue({ ops: ["read"] }, { id: `${p}-a2` });
    await issue({ ops: ["read"] }, { id: `${p}-b1` });
    // Out-of-scope ids sort first; a page of one must still hold the visible id, and say nothing more follows.
    const page = await list(`prefix=${p}&limit=1`, token);
    expect({ ids: ids(page), has_more: page.has_more }).toEqual({ ids: [`${p}-b1`], has_more: false });
  });
});
