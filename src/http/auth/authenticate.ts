/**
 * Who is calling: `Authorization: Bearer <token>` is the root token (the ROOT_TOKEN secret), a token we
 * issued and signed (verified here, without a round trip), or absent — which only an operator's explicit
 * ANONYMOUS_ACCESS grant allows. Every failure is `401 authn` with a `WWW-Authenticate` challenge (RFC 6750);
 * the message never repeats the token.
 */
import type { MiddlewareHandler } from "hono";
import { effectiveOps, READ_OPERATIONS, OPERATIONS, type Principal } from "../../domain/access";
import { streamError, type StreamError } from "../../domain/errors";
import type { Env } from "../../env";
import { err, ok, type Result } from "../../lib/result";
import type { AppEnv } from "../context";
import { challenge, WWW_AUTHENTICATE } from "./challenge";
import { isRevoked } from "./revocations";
import { matchesSecret, verifyToken } from "./tokens";

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

/** Query parameter carrying the bearer token of a WebSocket upgrade (see `authorizationOf`). */
export const ACCESS_TOKEN_PARAM = "access_token";

function anonymousGrant(env: Env): Principal | undefined {
  switch (env.ANONYMOUS_ACCESS) {
    case "read":
      return { kind: "anonymous", ops: READ_OPERATIONS };
    case "all":
      return { kind: "anonymous", ops: new Set(OPERATIONS) };
    default:
      return undefined;
  }
}

const authn = (message: string) => err(streamError("authn", message));

export async function resolvePrincipal(authorization: string | undefined, env: Env): Promise<Result<Principal, StreamError>> {
  if (authorization === undefined) return anonymousGrant(env) ? ok(anonymousGrant(env)!) : authn("missing bearer token");
  const token = BEARER.exec(authorization)?.[1];
  if (!token) return authn("malformed Authorization header: expected `Bearer <token>`");
  if (!env.ROOT_TOKEN) return authn("no tokens are accepted: the ROOT_TOKEN secret is not set");
  if (await matchesSecret(token, env.ROOT_TOKEN)) return ok({ kind: "root" });
  const claims = await verifyToken(token, env.ROOT_TOKEN);
  if (!claims) return authn("invalid access token");
  const principal: Principal = { kind: "token", claims };
  const lapse = await principalLapse(principal, env);
  if (lapse) return err(lapse);
  if (effectiveOps(claims.scope).size === 0) return authn("access token grants nothing");
  return ok(principal);
}

/**
 * Why an issued token no longer holds, if it does not: it expired or was revoked. Checked per request, and
 * again through a long session (read-session.ts), which then ends with the error a new request would get.
 * The root token and anonymous grants do not lapse.
 */
export async function principalLapse(principal: Principal, env: Env): Promise<StreamError | undefined> {
  if (principal.kind !== "token") return undefined;
  const { claims } = principal;
  if (claims.expiresAtMs !== null && claims.expiresAtMs <= Date.now()) return streamError("authn", "access token expired");
  if (await isRevoked(env, claims.id)) return streamError("authn", "access token revoked");
  return undefined;
}

/**
 * The credentials of a request: its Authorization header, or, for a WebSocket upgrade only, the `access_token`
 * query parameter, because a browser's WebSocket cannot send headers. Only upgrades: elsewhere a token in the
 * URL would end up in logs and caches for no reason, and clients can set the header.
 */
export function authorizationOf(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header !== null) return header;
  if (request.headers.get("upgrade")?.trim().toLowerCase() !== "websocket") return undefined;
  const token = new URL(request.url).searchParams.get(ACCESS_TOKEN_PARAM);
  return token === null ? undefined : `Bearer ${token}`;
}

/** Authenticates every request of a route group; failures render in that group's protocol. */
export function authenticate(render: (error: StreamError) => Response): MiddlewareHandler<AppEnv> {
  return async function authenticateRequest(c, next) {
    const principal = await resolvePrincipal(authorizationOf(c.req.raw), c.env);
    if (!principal.ok) {
      const response = render(principal.error);
      response.headers.set(WWW_AUTHENTICATE, challenge(principal.error));
      return response;
    }
    c.set("principal", principal.value);
    await next();
  };
}
