/**
 * May the caller perform this operation on these resources (S2-API §6.2)? Handlers call `authorize` with
 * the operation they implement and every basin, stream and token id the request names, before any work.
 * Stream names here are the stored ones, after auto-prefixing.
 */
import { effectiveOps, inResourceSet, type Operation, type Principal } from "../../domain/access";
import { streamError } from "../../domain/errors";
import type { AppContext } from "../context";
import { Rejection } from "../s2/request";

export interface Resources {
  basin?: string;
  stream?: string;
  accessToken?: string;
}

export function authorize(c: AppContext, op: Operation, resources: Resources = {}): void {
  const principal = c.get("principal");
  if (principal.kind === "root") return;
  if (principal.kind === "anonymous") {
    if (!principal.ops.has(op)) throw new Rejection(streamError("authn", `missing bearer token: anonymous callers may not ${op}`));
    return;
  }
  const { scope } = principal.claims;
  const denied =
    !effectiveOps(scope).has(op) ||
    (resources.basin !== undefined && !inResourceSet(scope.basins, resources.basin)) ||
    (resources.stream !== undefined && !inResourceSet(scope.streams, resources.stream)) ||
    (resources.accessToken !== undefined && !inResourceSet(scope.accessTokens, resources.accessToken));
  if (denied) throw new Rejection(streamError("permission_denied", `this token may not ${op} here`));
}

/** The stream prefix an auto-prefixing token adds to every stream name it sends (and strips from replies). */
export function streamPrefix(principal: Principal): string {
  if (principal.kind !== "token" || !principal.claims.autoPrefixStreams) return "";
  const streams = principal.claims.scope.streams;
  return streams.kind === "prefix" ? streams.prefix : "";
}

/** Listings show only what the caller's scope covers. */
export function visible(principal: Principal, kind: "basins" | "streams" | "accessTokens", name: string): boolean {
  return principal.kind !== "token" || inResourceSet(principal.claims.scope[kind], name);
}
