// Auth against a real local server (`npm start`): the official SDK issues, lists and revokes access tokens and works
// with an issued token inside its scope (403 S2Error outside it); and a revocation is honoured by requests on
// other connections within REVOCATION_REFRESH_MS (S2-API §1.2, §6.2).
import { request } from "node:http";
import { AppendInput, AppendRecord, S2, type S2Basin } from "@s2-dev/streamstore";
import { beforeAll, describe, expect, it } from "vitest";
import { REVOCATION_REFRESH_MS } from "../../src/http/auth/revocations";
import { rootAuthorization } from "../support/auth";
import { randomSuffix as randomSuffixId } from "../support/names";
import { api, baseUrl, client, createBasin, expectS2Error, jsonOf, stream } from "../support/s2";

const root = client();
let basin: S2Basin;
const allowed = "granted/log";
const forbidden = "private/log";

/** An SDK client that presents `accessToken`, one attempt per call. */
const clientWith = (accessToken: string) =>
  new S2({ accessToken, endpoints: { account: baseUrl(), basin: baseUrl() }, retry: { maxAttempts: 1 } });

beforeAll(async () => {
  basin = await createBasin(root, "auth-sdk");
  for (const name of [allowed, forbidden]) {
    await basin.streams.create({ stream: name });
    await stream(basin, name).append(AppendInput.create([AppendRecord.string({ body: `seed of ${name}` })]));
  }
});

describe("access tokens through the SDK", () => {
  it("issues, lists and revokes a token", async () => {
    const id = `sdk-${randomSuffixId()}`;
    const expiresAt = new Date(Date.now() + 3_600_000);
    const issued = await root.accessTokens.issue({
      id,
      expiresAt,
      scope: { basins: { exact: basin.name }, streams: { prefix: "granted/" }, opGroups: { stream: { read: true } }, ops: ["append"] },
    });
    expect(typeof issued.accessToken).toBe("string");
    expect(issued.accessToken.length).toBeGreaterThan(20);

    const listed = await root.accessTokens.list({ prefix: id });
    expect(listed.hasMore).toBe(false);
    expect(listed.accessTokens).toHaveLength(1);
    const info = listed.accessTokens[0]!;
    expect(info.id).toBe(id);
    expect(info.autoPrefixStreams).toBe(false);
    expect(info.expiresAt?.getTime()).toBe(expiresAt.getTime());
    expect(info.scope.basins).toEqual({ exact: basin.name });
    expect(info.scope.streams).toEqual({ prefix: "granted/" });
    expect(info.scope.accessTokens ?? null).toBeNull();
    expect(info.scope.opGroups).toEqual({
      account: { read: false, write: false }, basin: { read: false, write: false }, stream: { read: true, write: false },
    });
    expect(info.scope.ops).toEqual(["append"]);

    const all: string[] = [];
    for await (const token of root.accessTokens.listAll({ prefix: id })) all.push(token.id);
    expect(all).toEqual([id]);

    await root.accessTokens.revoke({ id });
    expect((await root.accessTokens.list({ prefix: id })).accessTokens).toEqual([]);
    await expectS2Error(root.accessTokens.revoke({ id }), 404, "access_token_not_found");
    await expectS2Error(clientWith(issued.accessToken).basins.list(), 401, "authn");
  });

  it("refuses a duplicate id and an empty scope with the SDK's error types", async () => {
    const id = `sdk-${randomSuffixId()}`;
    await root.accessTokens.issue({ id, scope: { ops: ["list-basins"] } });
    await expectS2Error(root.accessTokens.issue({ id, scope: { ops: ["list-basins"] } }), 409, "resource_already_exists");
    const empty = await expectS2Error(root.accessTokens.issue({ id: `${id}-empty`, scope: { ops: [] } }), 422, "invalid");
    expect(empty.message).toContain("Access token permissions cannot be empty");
  });

  it("an issued token appends and reads within its scope and gets 403 S2Error outside it", async () => {
    const { accessToken } = await root.accessTokens.issue({
      id: `sdk-${randomSuffixId()}`,
      scope: { basins: { exact: basin.name }, streams: { prefix: "granted/" }, ops: ["append", "read", "check-tail"] },
    });
    const scoped = clientWith(accessToken).basin(basin.name);
    const mine = stream(scoped, allowed);
    const ack = await mine.append(AppendInput.create([AppendRecord.string({ body: "from the token" })]));
    expect(ack.start.seqNum).toBe(1);
    const batch = await mine.read({ start: { from: { seqNum: 0 } } });
    expect(batch.records.map((r) => r.body)).toEqual([`seed of ${allowed}`, "from the token"]);
    expect((await mine.checkTail()).tail.seqNum).toBe(2);

    const theirs = stream(scoped, forbidden);
    await expectS2Error(theirs.append(AppendInput.create([AppendRecord.string({ body: "intrusion" })])), 403, "permission_denied");
    await expectS2Error(theirs.read({ start: { from: { seqNum: 0 } } }), 403, "permission_denied");
    await expectS2Error(scoped.streams.list(), 403, "permission_denied");
    await expectS2Error(scoped.streams.create({ stream: "granted/new" }), 403, "permission_denied");
    await expectS2Error(clientWith(accessToken).basins.list(), 403, "permission_denied");
    await expectS2Error(mine.append(AppendInput.create([AppendRecord.fence("f")])), 403, "permission_denied");

    // Nothing the token was refused reached the streams.
    const untouched = await stream(basin, forbidden).read({ start: { from: { seqNum: 0 } } });
    expect(untouched.records.map((r) => r.body)).toEqual([`seed of ${forbidden}`]);
    expect((await stream(basin, allowed).checkTail()).tail.seqNum).toBe(2);
  });

  it("an auto-prefixing token sees its streams without the prefix", async () => {
    const { accessToken } = await root.accessTokens.issue({
      id: `sdk-${randomSuffixId()}`,
      autoPrefixStreams: true,
      scope: { basins: { exact: basin.name }, streams: { prefix: "granted/" }, opGroups: { basin: { read: true, write: true }, stream: { read: true, write: true } } },
    });
    const scoped = clientWith(accessToken).basin(basin.name);
    await scoped.streams.create({ stream: "sub" });
    const names = (await scoped.streams.list()).streams.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["log", "sub"]));
    expect(names.every((n) => !n.startsWith("granted/") && !n.startsWith("private/"))).toBe(true);
    const rootNames = (await basin.streams.list({ prefix: "granted/" })).streams.map((s) => s.name);
    expect(rootNames).toContain("granted/sub");
  });
});

/** DELETE over a connection of its own (no keep-alive pool shared with the polling requests). */
function revokeOnFreshConnection(id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl()}/v1/access-tokens/${encodeURIComponent(id)}`, {
      method: "DELETE", agent: false, headers: { ...rootAuthorization, connection: "close" },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("revocation bound", () => {
  it(`refuses a revoked token within REVOCATION_REFRESH_MS (${REVOCATION_REFRESH_MS} ms) plus slack`, async () => {
    const id = `rev-${randomSuffixId()}`;
    const issued = await api("/access-tokens", {
      method: "POST", json: { id, scope: { basins: { exact: basin.name }, streams: { exact: allowed }, ops: ["check-tail"] } },
    });
    expect(issued.status).toBe(201);
    const { access_token: token } = (await jsonOf(issued)) as { access_token: string };
    const tail = () => fetch(`${baseUrl()}/v1/streams/${encodeURIComponent(allowed)}/records/tail`, {
      headers: { authorization: `Bearer ${token}`, "s2-basin": basin.name },
    });
    // Warm the polling connection and whatever revocation list the server holds.
    for (let i = 0; i < 3; i++) {
      const res = await tail();
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }

    const revokedAt = Date.now();
    expect(await revokeOnFreshConnection(id)).toBe(204);
    const slackMs = 2_000;
    let refusedAfter: number | undefined;
    let last = 0;
    let polls = 0;
    while (Date.now() - revokedAt <= REVOCATION_REFRESH_MS + slackMs) {
      const res = await tail();
      const body = await res.text();
      polls++;
      last = res.status;
      if (res.status === 401) {
        expect(JSON.parse(body)).toMatchObject({ code: "authn" });
        expect(body).not.toContain(token);
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`revocation observed after ${refusedAfter ?? "never"} ms (${polls} polls; bound ${REVOCATION_REFRESH_MS} ms + ${slackMs} ms slack)`);
    expect({ refusedAfter: refusedAfter !== undefined, last }).toEqual({ refusedAfter: true, last: 401 });
    expect(refusedAfter).toBeLessThanOrEqual(REVOCATION_REFRESH_MS + slackMs);
    // And it stays refused.
    const again = await tail();
    await again.arrayBuffer();
    expect(again.status).toBe(401);
  });
});
