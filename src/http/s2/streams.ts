/** S2 basin-level stream routes (S2-API §7): list, create, ensure, get config, reconfigure, delete. */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { streamError } from "../../domain/errors";
import { checkStreamName, checkStreamPrefix } from "../../domain/names";
import { basinStub, streamStub } from "../../env";
import { parseCreateStreamRequest, parseStreamConfigSpec, renderStreamConfig, renderStreamInfo } from "../../protocol/s2/json-config";
import { parseListQuery } from "../../protocol/s2/query";
import { authorize, ensurePermission, listableWithin, streamPrefix } from "../auth/authorize";
import { createFingerprint, requestToken } from "./basins";
import { basinOf, json, readJsonBody, streamParam } from "./request";
import { Rejection, unwrap } from "../rejection";

export const streamRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const basin = unwrap(basinOf(c));
    authorize(c, "list-streams", { basin });
    const query = unwrap(parseListQuery(new URL(c.req.url).searchParams, checkStreamPrefix));
    // An auto-prefixing token lists inside its prefix and sees names without it (S2-API §6.2).
    const principal = c.get("principal");
    const prefix = streamPrefix(principal);
    const startAfter = query.startAfter === "" ? "" : prefix + query.startAfter;
    const within = listableWithin(principal, "streams");
    const page = await basinStub(c.env, basin).listStreams({ ...query, prefix: prefix + query.prefix, startAfter, within });
    const streams = page.items.map((info) => renderStreamInfo({ ...info, name: info.name.slice(prefix.length) }));
    return json({ streams, has_more: page.hasMore });
  })
  .post("/", async (c) => {
    const token = unwrap(requestToken(c));
    const basin = unwrap(basinOf(c));
    const body = unwrap(await readJsonBody(c, { optional: false }));
    const requested = unwrap(parseCreateStreamRequest(body));
    const prefix = streamPrefix(c.get("principal"));
    const name = prefix + requested.name;
    const problem = checkStreamName(requested.name) ?? checkStreamName(name);
    if (problem) throw new Rejection(streamError("bad_json", `stream: ${problem}`));
    authorize(c, "create-stream", { basin, stream: name });
    // The fingerprint covers the config as requested, so a replay still matches after basin defaults change.
    const fingerprint = createFingerprint(token, body);
    const created = unwrap(await basinStub(c.env, basin).createStream(basin, name, requested.spec, fingerprint));
    return json(renderStreamInfo({ ...created.info, name: requested.name }), 201, { "s2-provision-result": created.result });
  })
  .get("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    authorize(c, "get-stream-config", { basin, stream: name });
    const config = unwrap(await streamStub(c.env, basin, name).getConfig());
    return json(renderStreamConfig(config));
  })
  .put("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    const permission = ensurePermission(c, "stream", { basin, stream: name });
    const spec = unwrap(parseStreamConfigSpec(unwrap(await readJsonBody(c, { optional: true })) ?? {}));
    const { info, result } = unwrap(await basinStub(c.env, basin).ensureStream(basin, name, spec, permission));
    return json(renderStreamInfo({ ...info, name: c.req.param("stream") }), result === "created" ? 201 : 200, { "s2-provision-result": result });
  })
  .patch("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    authorize(c, "reconfigure-stream", { basin, stream: name });
    const patch = unwrap(parseStreamConfigSpec(unwrap(await readJsonBody(c, { optional: false }))));
    return json(renderStreamConfig(unwrap(await basinStub(c.env, basin).reconfigureStream(basin, name, patch))));
  })
  .delete("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    authorize(c, "delete-stream", { basin, stream: name });
    unwrap(await basinStub(c.env, basin).deleteStream(basin, name));
    return new Response(null, { status: 202 });
  });
