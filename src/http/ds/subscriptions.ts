/**
 * The reserved subscription APIs under `/v1/stream/__ds/` (PROTOCOL.md §6–7), served when DS_SUBSCRIPTIONS
 * is `on` or `local` (404 otherwise). Managing subscriptions and claiming wakes are authenticated like every
 * other route, as the basin operations they are; callback, ack and release are authenticated by the wake's
 * own token instead, and the JWKS is public, so those are mounted before account authentication (app.ts).
 */
import { Hono, type Context } from "hono";
import type { Operation } from "../../domain/access";
import { subscriptionError, type SubscriptionError } from "../../domain/subscription";
import { subscriptionsStub, type Env } from "../../env";
import { fromUtf8Strict } from "../../lib/bytes";
import { err, ok, type Result } from "../../lib/result";
import { STREAM_ROOT } from "../../protocol/ds/headers";
import {
  parseStreamPaths, parseSubscriptionRequest, parseWakeReport, renderSubscription, renderSubscriptionError, renderWakeStreams,
} from "../../protocol/ds/subscription-json";
import { authorize } from "../auth/authorize";
import type { AppEnv } from "../context";
import { unwrap } from "../rejection";
import { json, readBody } from "../s2/request";
import { dsBasin, dsOnError, type DsContext } from "./request";
import { withResponseHeaders } from "./responses";

export const subscriptionsEnabled = (env: Env): boolean => env.DS_SUBSCRIPTIONS === "on" || env.DS_SUBSCRIPTIONS === "local";

const hub = (c: DsContext) => subscriptionsStub(c.env, dsBasin(c.env));

function failure(error: SubscriptionError): Response {
  const { status, body } = renderSubscriptionError(error);
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

/** The result's value rendered by `render`, or its error as the protocol's `{ "error": … }` body. */
const respond = <T>(result: Result<T, SubscriptionError>, render: (value: T) => Response): Response =>
  result.ok ? render(result.value) : failure(result.error);

async function jsonBody(c: DsContext): Promise<Result<unknown, SubscriptionError>> {
  const text = fromUtf8Strict(unwrap(await readBody(c, "too_large")));
  try {
    return ok(JSON.parse(text ?? ""));
  } catch {
    return err(subscriptionError("INVALID_REQUEST", "expected a JSON body"));
  }
}

/** `{origin}/v1/stream`: callback and JWKS URLs are built on what the client reached us as. */
const streamRoot = (c: DsContext) => `${new URL(c.req.url).origin}${STREAM_ROOT.slice(0, -1)}`;

const guard = (c: DsContext, op?: Operation): Response | undefined => {
  if (!subscriptionsEnabled(c.env)) return failure(subscriptionError("NOT_FOUND", "subscriptions are not enabled on this server"));
  if (op) authorize(c, op, { basin: dsBasin(c.env) });
  return undefined;
};

/** The stream path of `…/streams/:path`: percent-encoded, and it may contain slashes (PROTOCOL.md §6.4). */
function linkedPath(c: DsContext): string {
  const path = new URL(c.req.url).pathname;
  return decodeURIComponent(path.slice(path.indexOf("/streams/") + "/streams/".length));
}

export const subscriptionRoutes = new Hono<AppEnv>()
  .put("/subscriptions/:id", async (c) => {
    const refused = guard(c, "reconfigure-basin");
    if (refused) return refused;
    const body = await jsonBody(c);
    const config = body.ok ? parseSubscriptionRequest(body.value, c.env.DS_SUBSCRIPTIONS === "local") : body;
    if (!config.ok) return failure(config.error);
    const put = await hub(c).put(dsBasin(c.env), c.req.param("id"), config.value, streamRoot(c));
    return respond(put, ({ created, view }) => json(renderSubscription(view), created ? 201 : 200));
  })
  .get("/subscriptions/:id", async (c) =>
    guard(c, "get-basin-config") ?? respond(await hub(c).get(c.req.param("id")), (view) => json(renderSubscription(view))))
  .delete("/subscriptions/:id", async (c) =>
    guard(c, "reconfigure-basin") ?? respond(await hub(c).delete(dsBasin(c.env), c.req.param("id")), () => new Response(null, { status: 204 })))
  .post("/subscriptions/:id/streams", async (c) => {
    const refused = guard(c, "reconfigure-basin");
    if (refused) return refused;
    const body = await jsonBody(c);
    const paths = body.ok ? parseStreamPaths((body.value as { streams?: unknown } | null)?.streams) : body;
    if (!paths.ok) return failure(paths.error);
    const added = await hub(c).addStreams(dsBasin(c.env), c.req.param("id"), paths.value);
    return respond(added, () => new Response(null, { status: 204 }));
  })
  .delete("/subscriptions/:id/streams/*", async (c) => {
    const refused = guard(c, "reconfigure-basin");
    if (refused) return refused;
    const removed = await hub(c).removeStream(dsBasin(c.env), c.req.param("id"), linkedPath(c));
    return respond(removed, () => new Response(null, { status: 204 }));
  })
  .post("/subscriptions/:id/claim", async (c) => {
    const refused = guard(c, "read");
    if (refused) return refused;
    const body = await jsonBody(c);
    const worker = body.ok ? (body.value as { worker?: unknown } | null)?.worker : undefined;
    if (typeof worker !== "string" || worker === "") return failure(subscriptionError("INVALID_REQUEST", "worker is required"));
    const claimed = await hub(c).claim(dsBasin(c.env), c.req.param("id"), worker);
    return respond(claimed, ({ wake, generation, leaseTtlMs }) => json({
      wake_id: wake.id, generation, token: wake.token, streams: renderWakeStreams(wake.streams), lease_ttl_ms: leaseTtlMs,
    }));
  });

const BEARER = /^Bearer +(\S+) *$/i;

/** Callback (webhook), ack (pull-wake) and release: the wake's token authenticates; stale wakes are FENCED. */
function answer(release: boolean) {
  return async (c: Context<AppEnv>) => {
    const refused = guard(c);
    if (refused) return refused;
    const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    if (!token) return failure(subscriptionError("UNAUTHORIZED", "the wake's token is required as a Bearer token"));
    const body = await jsonBody(c);
    const report = body.ok ? parseWakeReport(body.value) : body;
    if (!report.ok) return failure(report.error);
    const answered = await hub(c).answer(dsBasin(c.env), c.req.param("id") ?? "", token, report.value, release);
    return respond(answered, ({ nextWake }) => (release ? new Response(null, { status: 204 }) : json({ ok: true, next_wake: nextWake })));
  };
}

export const wakeTokenRoutes = new Hono<AppEnv>()
  .get("/jwks.json", withResponseHeaders, async (c) =>
    guard(c) ?? json(await hub(c).jwks(), 200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" }))
  .post("/subscriptions/:id/callback", withResponseHeaders, answer(false))
  .post("/subscriptions/:id/ack", withResponseHeaders, answer(false))
  .post("/subscriptions/:id/release", withResponseHeaders, answer(true))
  .onError(dsOnError);
