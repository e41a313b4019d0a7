/**
 * S2 JSON of access tokens (S2-API §6.2): IssueAccessTokenRequest in, AccessTokenInfo out. An absent or
 * null resource set means "none"; on output "none" is null, `op_groups` always has all three levels and both
 * booleans, `ops` is always an array.
 */
import { OPERATIONS, type AccessScope, type IssueRequest, type OpGroupLevel, type ReadWrite, type ResourceSet, type TokenClaims } from "../../domain/access";
import type { StreamError } from "../../domain/errors";
import type { Result } from "../../lib/result";
import { asArray, asBoolean, asEnum, asObject, asString, BadJson, optionalObject, readJson, type JsonObject } from "./json-fields";

const LEVELS: readonly OpGroupLevel[] = ["account", "basin", "stream"];

function readResourceSet(value: unknown, name: string): ResourceSet {
  const json = optionalObject(value, name);
  if (!json) return { kind: "none" };
  if (typeof json.exact === "string") return { kind: "exact", name: json.exact };
  if (typeof json.prefix === "string") return { kind: "prefix", prefix: json.prefix };
  throw new BadJson(`${name}: expected {"exact": string} or {"prefix": string}`);
}

function readReadWrite(json: JsonObject | null | undefined, name: string): ReadWrite {
  return {
    read: json?.read == null ? false : asBoolean(json.read, `${name}.read`),
    write: json?.write == null ? false : asBoolean(json.write, `${name}.write`),
  };
}

function readScope(value: unknown): AccessScope {
  const json = asObject(value, "scope");
  const groups = optionalObject(json.op_groups, "scope.op_groups");
  const opGroups = Object.fromEntries(LEVELS.map((level) =>
    [level, readReadWrite(optionalObject(groups?.[level], `scope.op_groups.${level}`), `scope.op_groups.${level}`)])) as AccessScope["opGroups"];
  return {
    basins: readResourceSet(json.basins, "scope.basins"),
    streams: readResourceSet(json.streams, "scope.streams"),
    accessTokens: readResourceSet(json.access_tokens, "scope.access_tokens"),
    opGroups,
    ops: json.ops == null ? [] : asArray(json.ops, "scope.ops").map((op, i) => asEnum(op, OPERATIONS, `scope.ops[${i}]`)),
  };
}

export function parseIssueRequest(body: unknown): Result<IssueRequest, StreamError> {
  return readJson(() => {
    const json = asObject(body, "body");
    let expiresAtMs: number | null = null;
    if (json.expires_at != null) {
      expiresAtMs = Date.parse(asString(json.expires_at, "expires_at"));
      if (Number.isNaN(expiresAtMs)) throw new BadJson("expires_at: expected an RFC 3339 date-time");
    }
    return {
      id: asString(json.id, "id"),
      scope: readScope(json.scope),
      autoPrefixStreams: json.auto_prefix_streams == null ? false : asBoolean(json.auto_prefix_streams, "auto_prefix_streams"),
      expiresAtMs,
    };
  });
}

const renderResourceSet = (set: ResourceSet) =>
  set.kind === "prefix" ? { prefix: set.prefix } : set.kind === "exact" ? { exact: set.name } : null;

export function renderTokenInfo(claims: TokenClaims) {
  const { scope } = claims;
  return {
    id: claims.id,
    expires_at: claims.expiresAtMs === null ? null : new Date(claims.expiresAtMs).toISOString(),
    auto_prefix_streams: claims.autoPrefixStreams,
    scope: {
      basins: renderResourceSet(scope.basins),
      streams: renderResourceSet(scope.streams),
      access_tokens: renderResourceSet(scope.accessTokens),
      op_groups: scope.opGroups,
      ops: scope.ops,
    },
  };
}
