/** S2 account-level basin routes (S2-API §6.1): list, create, ensure, get config, reconfigure, delete. */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { canonicalJson } from "../../domain/config";
import { streamError, type StreamError } from "../../domain/errors";
import { TOKEN_BYTES_MAX } from "../../domain/limits";
import { checkBasinName, checkBasinPrefix } from "../../domain/names";
import { accountStub } from "../../env";
import { utf8 } from "../../lib/bytes";
import { err, ok, type Result } from "../../lib/result";
import { parseBasinReconfiguration, parseBasinRequest, renderBasinConfig, renderBasinInfo } from "../../protocol/s2/json-config";
import { parseListQuery } from "../../protocol/s2/query";
import { authorize, ensurePermission, listableWithin } from "../auth/authorize";
import { basinParam, json, readJsonBody, type S2Context } from "./request";
import { unwrap } from "../rejection";

const LOCATION = /^[A-Za-z0-9:.-]{1,64}$/;

/** The `s2-request-token` of a create (≤ 36 bytes), checked before anything else as s2-lite does. */
export function requestToken(c: S2Context): Result<string | null, StreamError> {
  const token = c.req.header("s2-request-token");
  if (token === undefined) return ok(null);
  if (utf8(token).length > TOKEN_BYTES_MAX) {
    return err(streamError("bad_header", `s2-request-token must not exceed ${TOKEN_BYTES_MAX} bytes`));
  }
  return ok(token);
}

/** The token with the request as sent: a create replayed with both is a no-op (S2-API §14.1). */
export const createFingerprint = (token: string | null, request: unknown): string | null =>
  token === null ? null : canonicalJson([token, request]);

/** Names and locations inside a JSON body are body errors, as s2-lite's deserializer reports them. */
function checkInBody(problem: string | undefined): Result<void, StreamError> {
  return problem ? err(streamError("bad_json", problem)) : ok(undefined);
}

function checkLocation(location: string | null): string | undefined {
  return location === null || LOCATION.test(location) ? undefined : "location must be 1-64 characters of A-Z a-z 0-9 : . -";
}

export const basinRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    authorize(c, "list-basins");
    const query = unwrap(parseListQuery(new URL(c.req.url).searchParams, checkBasinPrefix));
    const page = await accountStub(c.env).listBasins({ ...query, within: listableWithin(c.get("principal"), "basins") });
    return json({ basins: page.items.map(renderBasinInfo), has_more: page.hasMore });
  })
  .post("/", async (c) => {
    const token = unwrap(requestToken(c));
    const body = unwrap(await readJsonBody(c, { optional: false }));
    const request = unwrap(parseBasinRequest(body, true));
    const name = request.name!;
    unwrap(checkInBody(checkBasinName(name) ?? checkLocation(request.location)));
    authorize(c, "create-basin", { basin: name });
    const fingerprint = createFingerprint(token, body);
    const created = unwrap(await accountStub(c.env).createBasin({ ...request, name, fingerprint }));
    // s2-lite answers 201 for a replay too, with `noop` telling the two apart (S2-API §14.1).
    return json(renderBasinInfo(created.basin.info), 201, { "s2-provision-result": created.result });
  })
  .get("/:basin", async (c) => {
    const name = unwrap(basinParam(c));
    authorize(c, "get-basin-config", { basin: name });
    const basin = unwrap(await accountStub(c.env).getBasin(name));
    return json(renderBasinConfig(basin.config));
  })
  .put("/:basin", async (c) => {
    const name = unwrap(basinParam(c));
    const permission = ensurePermission(c, "basin", { basin: name });
    const body = unwrap(await readJsonBody(c, { optional: true }));
    const request = unwrap(parseBasinRequest(body ?? {}, false));
    unwrap(checkInBody(checkLocation(request.location)));
    const { basin, result } = unwrap(await accountStub(c.env).ensureBasin({ ...request, name, fingerprint: null }, permission));
    return json(renderBasinInfo(basin.info), result === "created" ? 201 : 200, { "s2-provision-result": result });
  })
  .patch("/:basin", async (c) => {
    const name = unwrap(basinParam(c));
    authorize(c, "reconfigure-basin", { basin: name });
    const patch = unwrap(parseBasinReconfiguration(unwrap(await readJsonBody(c, { optional: false }))));
    return json(renderBasinConfig(unwrap(await accountStub(c.env).reconfigureBasin(name, patch))));
  })
  .delete("/:basin", async (c) => {
    const name = unwrap(basinParam(c));
    authorize(c, "delete-basin", { basin: name });
    unwrap(await accountStub(c.env).deleteBasin(name));
    return new Response(null, { status: 202 });
  });
