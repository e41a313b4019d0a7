/**
 * May the caller perform this operation on these resources (S2-API §6.2)? Handlers call `authorize` with
 * the operation they implement and every basin, stream and token id the request names, before any work.
 * Stream names here are the stored ones, after auto-prefixing.
 */
import {
  effectiveOps, inResourceSet, type EnsurePermission, type Operation, type Principal, type ResourceSet,
} from "../../domain/access";
import { streamError } from "../../domain/errors";
import type { AppContext } from "../context";
import { Rejection } from "../rejection";

export interface Resources {
  basin?: string;
  stream?: string;
  accessToken?: string;
}

export function authorize(c: AppContext, op: Operation, resources: Resources = {}): void {
  if (isAuthorized(c.get("principal"), op, resources)) return;
  if (c.get("principal").kind === "anonymous") {
    throw new Rejection(streamError("authn", `missing bearer token: anonymous callers may not ${op}`));
  }
  throw new Rejection(streamError("permission_denied", `this token may not ${op} here`));
}

export function isAuthorized(principal: Principal, op: Operation, resources: Resources = {}): boolean {
  if (principal.kind === "root") return true;
  if (principal.kind === "anonymous") return principal.ops.has(op);
  const { scope } = principal.claims;
  return effectiveOps(scope).has(op) &&
    (resources.basin === undefined || inResourceSet(scope.basins, resources.basin)) &&
    (resources.stream === undefined || inResourceSet(scope.streams, resources.stream)) &&
    (resources.accessToken === undefined || inResourceSet(scope.accessTokens, resources.accessToken));
}

/** What a PUT may do (domain/access.ts); without either operation it is refused here. */
export function ensurePermission(c: AppContext, kind: "basin" | "stream", resources: Resources): EnsurePermission {
  const principal = c.get("principal");
  const permission = {
    create: isAuthorized(principal, `create-${kind}`, resources),
    reconfigure: isAuthorized(principal, `reconfigure-${kind}`, resources),
  };
  if (!permission.create && !permission.reconfigure) authorize(c, `create-${kind}`, resources);
  return permission;
}

/** The stream prefix an auto-prefixing token adds to every stream name it sends (and strips from replies). */
export function streamPrefix(principal: Principal): string {
  if (principal.kind !== "token" || !principal.claims.autoPrefixStreams) return "";
  const streams = principal.claims.scope.streams;
  return streams.kind === "prefix" ? streams.prefix : "";
}

/** The names a caller's listings may show: its scope's set, or everything. */
export function listableWithin(principal: Principal, kind: "basins" | "streams" | "accessTokens"): ResourceSet | undefined {
  return principal.kind === "token" ? principal.claims.scope[kind] : undefined;
}
