/** S2 basin-level stream routes (S2-API §7): list, create, ensure, get config, reconfigure, delete. */
import { Hono } from "hono";
import { streamError } from "../../domain/errors";
import { checkStreamName, checkStreamPrefix } from "../../domain/names";
import { basinStub, streamStub, type Env } from "../../env";
import { parseCreateStreamRequest, parseStreamConfigSpec, renderStreamConfig, renderStreamInfo } from "../../protocol/s2/json-config";
import { parseListQuery } from "../../protocol/s2/query";
import { createFingerprint, requestToken } from "./basins";
import { basinOf, json, readJsonBody, Rejection, streamParam, unwrap } from "./request";

export const streamRoutes = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => {
    const basin = unwrap(basinOf(c));
    const query = unwrap(parseListQuery(new URL(c.req.url).searchParams, checkStreamPrefix));
    const page = await basinStub(c.env, basin).listStreams(query);
    return json({ streams: page.items.map(renderStreamInfo), has_more: page.hasMore });
  })
  .post("/", async (c) => {
    const token = unwrap(requestToken(c));
    const basin = unwrap(basinOf(c));
    const body = unwrap(await readJsonBody(c, { optional: false }));
    const { name, spec } = unwrap(parseCreateStreamRequest(body));
    const problem = checkStreamName(name);
    if (problem) throw new Rejection(streamError("bad_json", `stream: ${problem}`));
    // The fingerprint covers the config as requested, so a replay still matches after basin defaults change.
    const created = unwrap(await basinStub(c.env, basin).createStream(basin, name, spec, createFingerprint(token, body)));
    return json(renderStreamInfo(created.info), 201, { "s2-provision-result": created.result });
  })
  .get("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const config = unwrap(await streamStub(c.env, basin, unwrap(streamParam(c))).getConfig());
    return json(renderStreamConfig(config));
  })
  .put("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    const spec = unwrap(parseStreamConfigSpec(unwrap(await readJsonBody(c, { optional: true })) ?? {}));
    const { info, result } = unwrap(await basinStub(c.env, basin).ensureStream(basin, name, spec));
    return json(renderStreamInfo(info), result === "created" ? 201 : 200, { "s2-provision-result": result });
  })
  .patch("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    const name = unwrap(streamParam(c));
    const patch = unwrap(parseStreamConfigSpec(unwrap(await readJsonBody(c, { optional: false }))));
    return json(renderStreamConfig(unwrap(await basinStub(c.env, basin).reconfigureStream(basin, name, patch))));
  })
  .delete("/:stream", async (c) => {
    const basin = unwrap(basinOf(c));
    unwrap(await basinStub(c.env, basin).deleteStream(basin, unwrap(streamParam(c))));
    return new Response(null, { status: 202 });
  });
