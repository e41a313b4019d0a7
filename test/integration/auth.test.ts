// Authentication (S2-API §1.2): who may call at all. A missing, malformed, unknown, forged, expired or
// revoked bearer token is `401 authn` with an RFC 6750 challenge that never repeats the token; `/health`
// stays open; anonymous requests pass only under an operator's ANONYMOUS_ACCESS grant.
import { createExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS, READ_OPERATIONS } from "../../src/domain/access";
import { resolvePrincipal } from "../../src/http/auth/authenticate";
import { createApp } from "../../src/http/app";
import { signToken } from "../../src/http/auth/tokens";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { anonymous, as, bearer, expectAuthn, issue, tokenId } from "./auth-helpers";
import {
  appendOk, call, createBasin, createStream, env, expectS2Error, expectStatus, ORIGIN, recordsPath, uniqueBasin, uniqueStream,
} from "./helpers";

const basin = uniqueBasin("auth");
const stream = uniqueStream();
const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await createBasin(basin);
  await createStream(basin, stream);
  await appendOk(basin, stream, ["one"]);
});

/** A request that would succeed for the root token, on every route group. */
const ROUTES: [string, string, { method?: string; json?: unknown; basin?: string }][] = [
  ["list basins", "/basins", {}],
  ["create basin", "/basins", { method: "POST", json: { basin: "never-created-1" } }],
  ["get basin config", `/basins/${basin}`, {}],
  ["list streams", "/streams", { basin }],
  ["read", `${recordsPath(stream)}?seq_num=0`, { basin }],
  ["check tail", `${recordsPath(stream)}/tail`, { basin }],
  ["append", recordsPath(stream), { method: "POST", basin, json: { records: [{ body: "x" }] } }],
  ["list access tokens", "/access-tokens", {}],
  ["delete stream", `/streams/${stream}`, { method: "DELETE", basin }],
];

describe("401 authn", () => {
  it.each(ROUTES)("without Authorization: %s (challenge without error=)", async (_name, path, init) => {
    await expectAuthn(await anonymous(path, init), undefined, false);
  });

  it("without Authorization nothing changed: the stream still has its one record", async () => {
    const res = await call(`${recordsPath(stream)}/tail`, { basin });
    expect(await expectStatus(res, 200)).toMatchObject({ tail: { seq_num: 1 } });
  });

  it.each([
    ["Basic", `Basic ${btoa("user:pass")}`],
    ["Bearer alone", "Bearer"],
    ["Bearer and spaces", "Bearer   "],
    ["token without scheme", TEST_ROOT_TOKEN],
    ["two tokens", `Bearer ${TEST_ROOT_TOKEN} ${TEST_ROOT_TOKEN}`],
  ])("for a malformed Authorization header: %s", async (_name, authorization) => {
    const res = await call("/basins", { headers: { authorization } });
    await expectAuthn(res, TEST_ROOT_TOKEN);
  });

  it("for an empty Authorization header (missing or malformed, either way 401)", async () => {
    const res = await call("/basins", { headers: { authorization: "" } });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="[^"]+"/);
    await expectS2Error(res, 401, "authn");
  });

  it("accepts the scheme case-insensitively (RFC 7235)", async () => {
    await expectStatus(await call("/basins", { headers: { authorization: `bearer ${TEST_ROOT_TOKEN}` } }), 200);
  });

  it.each([
    ["an unknown opaque token", "not-a-real-token-abcdef"],
    ["the root token with a suffix", `${TEST_ROOT_TOKEN}x`],
    ["a forged es1 token", "es1.eyJpZCI6IngifQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ])("for %s, with error=\"invalid_token\"", async (_name, token) => {
    await expectAuthn(await call(`${recordsPath(stream)}?seq_num=0`, { basin, headers: bearer(token) }), token);
  });

  it("for a token signed with another root token", async () => {
    const claims = {
      id: tokenId("foreign"),
      scope: {
        basins: { kind: "prefix", prefix: "" }, streams: { kind: "prefix", prefix: "" }, accessTokens: { kind: "prefix", prefix: "" },
        opGroups: { account: { read: true, write: true }, basin: { read: true, write: true }, stream: { read: true, write: true } },
        ops: [...OPERATIONS],
      },
      autoPrefixStreams: false,
      expiresAtMs: null,
    } as const;
    const foreign = await signToken(structuredClone(claims) as never, "another-deployments-root");
    await expectAuthn(await as(foreign, "/basins"), foreign);
    // The same claims under the right key are accepted: the refusal was about the key alone.
    const genuine = await signToken(structuredClone(claims) as never, TEST_ROOT_TOKEN);
    await expectStatus(await as(genuine, "/basins"), 200);
  });

  it("for an expired token, which worked until it expired", async () => {
    const expiresAt = new Date(Date.now() + 2_000);
    const token = await issue({ ops: ["check-tail"] }, { expires_at: expiresAt.toISOString() });
    await expectStatus(await as(token, `${recordsPath(stream)}/tail`, { basin }), 200);
    while (Date.now() <= expiresAt.getTime() + 50) await sleep(100);
    await expectAuthn(await as(token, `${recordsPath(stream)}/tail`, { basin }), token);
  });

  it("for a revoked token, at once when revoked through this isolate", async () => {
    const id = tokenId("rev");
    const token = await issue({ ops: ["check-tail", "read"] }, { id });
    await expectStatus(await as(token, `${recordsPath(stream)}/tail`, { basin }), 200);
    await expectStatus(await call(`/access-tokens/${id}`, { method: "DELETE" }), 204);
    await expectAuthn(await as(token, `${recordsPath(stream)}/tail`, { basin }), token);
    await expectAuthn(await as(token, `${recordsPath(stream)}?seq_num=0`, { basin }), token);
  });

  it("a revoked token stays refused after the revocation list is refreshed from the account", async () => {
    const id = tokenId("rev2");
    const token = await issue({ ops: ["check-tail"] }, { id });
    await expectStatus(await call(`/access-tokens/${id}`, { method: "DELETE" }), 204);
    await sleep(5_100); // past REVOCATION_REFRESH_MS: the next check reloads the list
    await expectAuthn(await as(token, `${recordsPath(stream)}/tail`, { basin }), token);
  }, 15_000);
});

describe("open and authenticated paths", () => {
  it("/health and /ping answer without a token", async () => {
    for (const path of ["/health", "/ping"]) {
      const res = await worker.fetch(`${ORIGIN}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("OK");
    }
  });

  it("the root token and issued tokens succeed", async () => {
    await expectStatus(await call("/basins"), 200);
    const token = await issue({ ops: ["list-basins"] });
    await expectStatus(await as(token, "/basins"), 200);
  });

  it("unknown /v1 paths and wrong methods still require a token", async () => {
    await expectAuthn(await anonymous("/nowhere"), undefined, false);
    await expectAuthn(await anonymous("/basins", { method: "PUT" }), undefined, false);
  });
});

describe("anonymous access (ANONYMOUS_ACCESS)", () => {
  it("without a grant resolvePrincipal refuses a missing token, whatever the var says otherwise", async () => {
    for (const grant of [undefined, "none", "", "READ", "yes"]) {
      const result = await resolvePrincipal(undefined, { ...env, ANONYMOUS_ACCESS: grant } as typeof env);
      expect(result.ok, String(grant)).toBe(false);
      if (!result.ok) expect(result.error.code).toBe("authn");
    }
  });

  it("\"read\" grants exactly the read operations; \"all\" grants every operation", async () => {
    const read = await resolvePrincipal(undefined, { ...env, ANONYMOUS_ACCESS: "read" } as typeof env);
    expect(read.ok && read.value.kind === "anonymous" ? [...read.value.ops].sort() : read).toEqual([...READ_OPERATIONS].sort());
    const all = await resolvePrincipal(undefined, { ...env, ANONYMOUS_ACCESS: "all" } as typeof env);
    expect(all.ok && all.value.kind === "anonymous" ? [...all.value.ops].sort() : all).toEqual([...OPERATIONS].sort());
  });

  it("a grant never rescues a bad token: a presented token must be valid", async () => {
    const result = await resolvePrincipal("Bearer bogus-token", { ...env, ANONYMOUS_ACCESS: "all" } as typeof env);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("authn");
    const root = await resolvePrincipal(`Bearer ${TEST_ROOT_TOKEN}`, { ...env, ANONYMOUS_ACCESS: "read" } as typeof env);
    expect(root.ok && root.value.kind).toBe("root");
  });

  const app = createApp();
  const fetchAnon = (grant: string, path: string, init: RequestInit = {}) =>
    app.fetch(new Request(`${ORIGIN}/v1${path}`, init), { ...env, ANONYMOUS_ACCESS: grant } as typeof env, createExecutionContext());
  const anonAppend = (grant: string) => fetchAnon(grant, recordsPath(stream), {
    method: "POST", headers: { "s2-basin": basin, "content-type": "application/json" }, body: JSON.stringify({ records: [{ body: "anon" }] }),
  });

  it("over HTTP with a \"read\" grant: reads and listings pass without a token", async () => {
    const read = await fetchAnon("read", `${recordsPath(stream)}?seq_num=0`, { headers: { "s2-basin": basin } });
    expect(await expectStatus(read, 200)).toMatchObject({ records: [{ seq_num: 0, body: "one" }] });
    await expectStatus(await fetchAnon("read", "/basins"), 200);
    await expectStatus(await fetchAnon("read", `${recordsPath(stream)}/tail`, { headers: { "s2-basin": basin } }), 200);
  });

  it("over HTTP with a \"read\" grant: writes are 401 authn and change nothing", async () => {
    await expectS2Error(await anonAppend("read"), 401, "authn");
    const create = await fetchAnon("read", "/basins", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ basin: uniqueBasin("anon") }),
    });
    await expectS2Error(create, 401, "authn");
    expect(await expectStatus(await call(`${recordsPath(stream)}/tail`, { basin }), 200)).toMatchObject({ tail: { seq_num: 1 } });
  });

  it("over HTTP with a \"read\" grant: the 401 for a write carries a WWW-Authenticate challenge (RFC 7235 §3.1)", async () => {
    await expectAuthn(await anonAppend("read"), undefined, false);
  });

  it("over HTTP with no grant the same app refuses the same read", async () => {
    await expectAuthn(await fetchAnon("none", `${recordsPath(stream)}?seq_num=0`, { headers: { "s2-basin": basin } }), undefined, false);
  });

  it("over HTTP with an \"all\" grant anonymous callers still cannot issue tokens", async () => {
    const res = await app.fetch(new Request(`${ORIGIN}/v1/access-tokens`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: tokenId("anon"), scope: { ops: ["read"], basins: { prefix: "" }, streams: { prefix: "" } } }),
    }), { ...env, ANONYMOUS_ACCESS: "all" } as typeof env, createExecutionContext());
    await expectS2Error(res, 403, "permission_denied");
  });
});

describe("WebSocket upgrades: the token may travel as ?access_token= (browsers cannot set headers)", () => {
  const wsPath = (query: string) => `${recordsPath(stream)}?basin=${basin}&seq_num=0&count=1&${query}`;
  const open = (res: Response) => {
    res.webSocket?.accept();
    res.webSocket?.close(1000, "test done");
    return res.status;
  };

  it("a valid token in the query opens the socket", async () => {
    const token = await issue({ ops: ["read"] });
    expect(open(await anonymous(wsPath(`access_token=${encodeURIComponent(token)}`), { headers: { upgrade: "websocket" } }))).toBe(101);
  });

  it("an invalid or revoked token in the query is 401, and the challenge and body do not repeat it", async () => {
    await expectAuthn(await anonymous(wsPath("access_token=bogus-token-123456"), { headers: { upgrade: "websocket" } }), "bogus-token-123456");
    const id = tokenId("wsrev");
    const token = await issue({ ops: ["read"] }, { id });
    await expectStatus(await call(`/access-tokens/${id}`, { method: "DELETE" }), 204);
    await expectAuthn(await anonymous(wsPath(`access_token=${encodeURIComponent(token)}`), { headers: { upgrade: "websocket" } }), token);
  });

  it("the query token is ignored without an upgrade: plain requests need the header", async () => {
    const token = await issue({ ops: ["read", "list-basins"] });
    await expectAuthn(await anonymous(wsPath(`access_token=${encodeURIComponent(token)}`)), undefined, false);
    await expectAuthn(await anonymous(`/basins?access_token=${encodeURIComponent(token)}`), undefined, false);
  });

  it("the query token is bound by its scope like a header token", async () => {
    const token = await issue({ ops: ["check-tail"] });
    const res = await anonymous(wsPath(`access_token=${encodeURIComponent(token)}`), { headers: { upgrade: "websocket" } });
    if (res.status === 101) open(res);
    await expectS2Error(res, 403, "permission_denied");
  });
});

describe("secrets do not leak", () => {
  it("a refused token appears in no response body, challenge or message", async () => {
    const token = await issue({ ops: ["list-basins"] }, { id: tokenId("leak") });
    for (const res of [
      await as(token, recordsPath(stream), { method: "POST", basin, json: { records: [{ body: "x" }] } }),
      await as(token, "/access-tokens"),
      await as(`${token}x`, "/basins"),
      await as(token.slice(0, -3), "/basins"),
      await call("/basins", { headers: { authorization: `Basic ${token}` } }),
    ]) {
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain(token.slice(0, -3));
      expect(text).not.toContain(TEST_ROOT_TOKEN);
      expect(res.headers.get("www-authenticate") ?? "").not.toContain(token.slice(0, -3));
    }
  });

  it("listing tokens shows no secret: neither the issued token nor its signature", async () => {
    const id = tokenId("nosecret");
    const token = await issue({ ops: ["read"] }, { id });
    const listed = await expectStatus(await call(`/access-tokens?prefix=${id}`), 200);
    const text = JSON.stringify(listed);
    expect(text).toContain(id);
    for (const part of token.split(".").slice(1)) expect(text).not.toContain(part);
    expect(text).not.toContain(TEST_ROOT_TOKEN);
  });
});
