/**
 * Access-token scopes (S2-API §6.2): which operations a token may perform, on which basins, streams and
 * access tokens. Pure rules; the edge verifies tokens and asks these questions per request.
 */
import { utf8 } from "../lib/bytes";
import { err, ok, type Result } from "../lib/result";
import { invalid, streamError, type StreamError } from "./errors";
import { checkBasinName, checkBasinPrefix, checkStreamName, checkStreamPrefix } from "./names";

/** Access token ids (S2-API §3). */
export const ACCESS_TOKEN_ID_BYTES_MAX = 96;

/** S2's operation names (S2-API §6.2), complete. Keep this in S2's order. */
export const OPERATIONS = [
  "list-basins", "create-basin", "delete-basin", "reconfigure-basin", "get-basin-config",
  "issue-access-token", "revoke-access-token", "list-access-tokens",
  "list-streams", "create-stream", "delete-stream", "get-stream-config", "reconfigure-stream",
  "check-tail", "append", "read", "trim", "fence",
  "account-metrics", "basin-metrics", "stream-metrics",
  "list-locations", "get-default-location", "set-default-location",
] as const;

export type Operation = (typeof OPERATIONS)[number];

/** A name set: everything with a prefix (`""` = all), one exact name (`""` = none), or none at all. */
export type ResourceSet = { kind: "prefix"; prefix: string } | { kind: "exact"; name: string } | { kind: "none" };

export type OpGroupLevel = "account" | "basin" | "stream";

export interface ReadWrite {
  read: boolean;
  write: boolean;
}

export interface AccessScope {
  basins: ResourceSet;
  streams: ResourceSet;
  accessTokens: ResourceSet;
  opGroups: Record<OpGroupLevel, ReadWrite>;
  ops: Operation[];
}

/** What each group grants (S2-API §6.2; locations count as account operations). */
const GROUP_OPS: Record<OpGroupLevel, Record<keyof ReadWrite, readonly Operation[]>> = {
  account: {
    read: ["list-basins", "list-access-tokens", "account-metrics", "list-locations", "get-default-location"],
    write: ["create-basin", "delete-basin", "reconfigure-basin", "issue-access-token", "revoke-access-token", "set-default-location"],
  },
  basin: {
    read: ["get-basin-config", "list-streams", "basin-metrics"],
    write: ["create-stream", "delete-stream", "reconfigure-stream"],
  },
  stream: {
    read: ["get-stream-config", "check-tail", "read", "stream-metrics"],
    write: ["append", "trim", "fence"],
  },
};

export function effectiveOps(scope: AccessScope): Set<Operation> {
  const ops = new Set<Operation>(scope.ops);
  for (const level of Object.keys(GROUP_OPS) as OpGroupLevel[]) {
    for (const mode of ["read", "write"] as const) {
      if (scope.opGroups[level][mode]) for (const op of GROUP_OPS[level][mode]) ops.add(op);
    }
  }
  return ops;
}

export function inResourceSet(set: ResourceSet, name: string): boolean {
  switch (set.kind) {
    case "prefix":
      return name.startsWith(set.prefix);
    case "exact":
      return set.name !== "" && set.name === name;
    case "none":
      return false;
  }
}

/** Every name in `inner` is also in `outer`. */
function resourceSetWithin(inner: ResourceSet, outer: ResourceSet): boolean {
  if (inner.kind === "none" || (inner.kind === "exact" && inner.name === "")) return true;
  if (inner.kind === "exact") return inResourceSet(outer, inner.name);
  return outer.kind === "prefix" && inner.prefix.startsWith(outer.prefix);
}

/** A token may only hand out what it holds itself (S2-API §6.2). */
export function scopeWithin(inner: AccessScope, outer: AccessScope): boolean {
  const outerOps = effectiveOps(outer);
  for (const op of effectiveOps(inner)) if (!outerOps.has(op)) return false;
  return resourceSetWithin(inner.basins, outer.basins) &&
    resourceSetWithin(inner.streams, outer.streams) &&
    resourceSetWithin(inner.accessTokens, outer.accessTokens);
}

/** The scope of the root token: everything. */
export const ROOT_SCOPE: Readonly<AccessScope> = {
  basins: { kind: "prefix", prefix: "" },
  streams: { kind: "prefix", prefix: "" },
  accessTokens: { kind: "prefix", prefix: "" },
  opGroups: {
    account: { read: true, write: true },
    basin: { read: true, write: true },
    stream: { read: true, write: true },
  },
  ops: [...OPERATIONS],
};

/**
 * What an operator's anonymous-read grant allows: the read operations, except listing access tokens, whose
 * ids and scopes are nobody's business without a token.
 */
export const READ_OPERATIONS: ReadonlySet<Operation> = new Set(
  (Object.keys(GROUP_OPS) as OpGroupLevel[]).flatMap((level) => GROUP_OPS[level].read).filter((op) => op !== "list-access-tokens"),
);

/** What an issued token carries, signed, so the edge can check it without asking anyone. */
export interface TokenClaims {
  id: string;
  scope: AccessScope;
  /** Stream names are prefixed with the scope's stream prefix on the way in and stripped on the way out. */
  autoPrefixStreams: boolean;
  /** ms since the Unix epoch; null: never expires. */
  expiresAtMs: number | null;
}

/** Who is calling: the root token, an issued token, or nobody under an operator's anonymous grant. */
export type Principal =
  | { kind: "root" }
  | { kind: "token"; claims: TokenClaims }
  | { kind: "anonymous"; ops: ReadonlySet<Operation> };

export interface IssueRequest {
  id: string;
  scope: AccessScope;
  autoPrefixStreams: boolean;
  expiresAtMs: number | null;
}

export function checkAccessTokenId(id: string): string | undefined {
  const bytes = utf8(id).length;
  return bytes < 1 || bytes > ACCESS_TOKEN_ID_BYTES_MAX || id === "." || id === ".."
    ? "access token id must be 1-96 bytes and not `.` or `..`"
    : undefined;
}

/** Names in a scope follow the rules of what they name, so a scope can never be bigger than it looks. */
function checkScopeNames(scope: AccessScope): string | undefined {
  const check = (set: ResourceSet, exact: (name: string) => string | undefined, prefix: (p: string) => string | undefined) =>
    set.kind === "exact" && set.name !== "" ? exact(set.name) : set.kind === "prefix" ? prefix(set.prefix) : undefined;
  const idPrefix = (p: string) => (utf8(p).length <= ACCESS_TOKEN_ID_BYTES_MAX ? undefined : "access token prefix must be at most 96 bytes");
  const problem =
    check(scope.basins, checkBasinName, checkBasinPrefix) ??
    check(scope.streams, checkStreamName, checkStreamPrefix) ??
    check(scope.accessTokens, checkAccessTokenId, idPrefix);
  return problem && `scope: ${problem}`;
}

/** The claims of a token `issuer` may issue, or why not (S2-API §6.2). */
export function checkIssue(issuer: Principal, request: IssueRequest, nowMs: number): Result<TokenClaims, StreamError> {
  const problem = checkAccessTokenId(request.id) ?? checkScopeNames(request.scope);
  if (problem) return err(invalid(problem));
  if (effectiveOps(request.scope).size === 0) return err(invalid("Access token permissions cannot be empty"));
  if (request.autoPrefixStreams && request.scope.streams.kind !== "prefix") {
    return err(invalid("Auto prefixing is only allowed for streams with prefix matching"));
  }
  if (request.expiresAtMs !== null && request.expiresAtMs <= nowMs) return err(invalid("expires_at must be in the future"));
  if (issuer.kind === "anonymous") return err(streamError("permission_denied", "anonymous callers cannot issue tokens"));
  if (issuer.kind === "root") return ok({ ...request });
  const { claims } = issuer;
  if (!scopeWithin(request.scope, claims.scope)) {
    return err(streamError("permission_denied", "a token cannot issue a token broader than itself"));
  }
  if (claims.expiresAtMs !== null && request.expiresAtMs !== null && request.expiresAtMs > claims.expiresAtMs) {
    return err(streamError("permission_denied", "a token cannot issue a token that outlives it"));
  }
  return ok({ ...request, expiresAtMs: request.expiresAtMs ?? claims.expiresAtMs });
}

/**
 * PUT (ensure) creates or converges, so the operation it needs depends on what exists: `create-*` to create,
 * `reconfigure-*` to change (S2-API §6.2). The edge says which the caller holds; the owner decides.
 */
export interface EnsurePermission {
  create: boolean;
  reconfigure: boolean;
}

export function checkEnsure(permission: EnsurePermission, action: "create" | "reconfigure"): Result<void, StreamError> {
  return permission[action] ? ok(undefined) : err(streamError("permission_denied", `this token may not ${action} here`));
}
