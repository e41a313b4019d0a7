/** S2 access-token routes (S2-API §6.2): list, issue, revoke. */
import { Hono } from "hono";
import { ACCESS_TOKEN_ID_BYTES_MAX, checkAccessTokenId, checkIssue } from "../../domain/access";
import { streamError } from "../../domain/errors";
import { accountStub } from "../../env";
import { utf8 } from "../../lib/bytes";
import { parseIssueRequest, renderTokenInfo } from "../../protocol/s2/json-access";
import { parseListQuery } from "../../protocol/s2/query";
import { authorize, listableWithin } from "../auth/authorize";
import { noteRevoked } from "../auth/revocations";
import { signToken } from "../auth/tokens";
import type { AppEnv } from "../context";
import { json, readJsonBody } from "./request";
import { Rejection, unwrap } from "../rejection";

const checkTokenPrefix = (prefix: string) =>
  utf8(prefix).length <= ACCESS_TOKEN_ID_BYTES_MAX ? undefined : `must be at most ${ACCESS_TOKEN_ID_BYTES_MAX} bytes`;

export const accessTokenRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    authorize(c, "list-access-tokens");
    const query = unwrap(parseListQuery(new URL(c.req.url).searchParams, checkTokenPrefix));
    const page = await accountStub(c.env).listTokens({ ...query, within: listableWithin(c.get("principal"), "accessTokens") });
    return json({ access_tokens: page.items.map(renderTokenInfo), has_more: page.hasMore });
  })
  .post("/", async (c) => {
    const request = unwrap(parseIssueRequest(unwrap(await readJsonBody(c, { optional: false }))));
    authorize(c, "issue-access-token", { accessToken: request.id });
    const claims = unwrap(checkIssue(c.get("principal"), request, Date.now()));
    const rootToken = c.env.ROOT_TOKEN;
    if (!rootToken) throw new Rejection(streamError("unavailable", "tokens cannot be issued: the ROOT_TOKEN secret is not set"));
    unwrap(await accountStub(c.env).registerToken(claims));
    return json({ access_token: await signToken(claims, rootToken) }, 201);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const problem = checkAccessTokenId(id);
    if (problem) throw new Rejection(streamError("bad_path", problem));
    authorize(c, "revoke-access-token", { accessToken: id });
    unwrap(await accountStub(c.env).revokeToken(id));
    noteRevoked(id);
    return new Response(null, { status: 204 });
  });
