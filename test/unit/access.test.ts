// Access-token scopes (S2-API §6.2): op groups, resource sets, "within" for issuing, checkIssue's rules, and
// the per-request questions authorize.ts asks of a principal.
import { describe, expect, it } from "vitest";
import {
  checkIssue, effectiveOps, inResourceSet, OPERATIONS, READ_OPERATIONS, ROOT_SCOPE, scopeWithin,
  type AccessScope, type IssueRequest, type Operation, type OpGroupLevel, type Principal, type ResourceSet, type TokenClaims,
} from "../../src/domain/access";
import { authorize, listableWithin, streamPrefix } from "../../src/http/auth/authorize";
import type { AppContext } from "../../src/http/context";
import { Rejection } from "../../src/http/rejection";
import { unwrap, unwrapErr } from "./support";

const NONE: ResourceSet = { kind: "none" };
const ALL: ResourceSet = { kind: "prefix", prefix: "" };
const exact = (name: string): ResourceSet => ({ kind: "exact", name });
const prefix = (p: string): ResourceSet => ({ kind: "prefix", prefix: p });
const NO_GROUPS = () => ({
  account: { read: false, write: false },
  basin: { read: false, write: false },
  stream: { read: false, write: false },
});

function scope(parts: Partial<Omit<AccessScope, "opGroups">> & { groups?: [OpGroupLevel, "read" | "write"][] } = {}): AccessScope {
  const opGroups = NO_GROUPS();
  for (const [level, mode] of parts.groups ?? []) opGroups[level][mode] = true;
  return { basins: parts.basins ?? NONE, streams: parts.streams ?? NONE, accessTokens: parts.accessTokens ?? NONE, opGroups, ops: parts.ops ?? [] };
}

const sorted = (ops: Iterable<Operation>) => [...ops].sort();

describe("effectiveOps", () => {
  const GROUPS: [OpGroupLevel, "read" | "write", Operation[]][] = [
    ["account", "read", ["list-basins", "list-access-tokens", "account-metrics", "list-locations", "get-default-location"]],
    ["account", "write", ["create-basin", "delete-basin", "reconfigure-basin", "issue-access-token", "revoke-access-token", "set-default-location"]],
    ["basin", "read", ["get-basin-config", "list-streams", "basin-metrics"]],
    ["basin", "write", ["create-stream", "delete-stream", "reconfigure-stream"]],
    ["stream", "read", ["get-stream-config", "check-tail", "read", "stream-metrics"]],
    ["stream", "write", ["append", "trim", "fence"]],
  ];

  it.each(GROUPS)("%s %s grants exactly the spec's operations", (level, mode, expected) => {
    expect(sorted(effectiveOps(scope({ groups: [[level, mode]] })))).toEqual(sorted(expected));
  });

  it("the six groups partition the complete operation list", () => {
    const all = GROUPS.flatMap(([, , ops]) => ops);
    expect(new Set(all).size).toBe(all.length);
    expect(sorted(all)).toEqual(sorted(OPERATIONS));
  });

  it("is the union of ops and groups, without duplicates", () => {
    const ops = effectiveOps(scope({ groups: [["stream", "read"]], ops: ["append", "read", "list-basins"] }));
    expect(sorted(ops)).toEqual(sorted(["get-stream-config", "check-tail", "read", "stream-metrics", "append", "list-basins"]));
  });

  it("is empty for no ops and no groups", () => {
    expect(effectiveOps(scope()).size).toBe(0);
  });

  it("the root scope holds every operation, and READ_OPERATIONS are the read groups but token listing", () => {
    expect(sorted(effectiveOps(ROOT_SCOPE))).toEqual(sorted(OPERATIONS));
    const readGroups = GROUPS.filter(([, mode]) => mode === "read").flatMap(([, , ops]) => ops);
    expect(sorted(READ_OPERATIONS)).toEqual(sorted(readGroups.filter((op) => op !== "list-access-tokens")));
    for (const op of ["append", "create-basin", "issue-access-token", "list-access-tokens", "delete-stream", "trim", "fence"] as const) {
      expect(READ_OPERATIONS.has(op)).toBe(false);
    }
  });
});

describe("inResourceSet", () => {
  it("exact matches one name only, and exact \"\" matches nothing (not even \"\")", () => {
    expect(inResourceSet(exact("logs"), "logs")).toBe(true);
    expect(inResourceSet(exact("logs"), "logs2")).toBe(false);
    expect(inResourceSet(exact("logs"), "log")).toBe(false);
    expect(inResourceSet(exact(""), "")).toBe(false);
    expect(inResourceSet(exact(""), "anything")).toBe(false);
  });

  it("prefix matches names that start with it; prefix \"\" matches everything", () => {
    expect(inResourceSet(prefix("logs/"), "logs/a")).toBe(true);
    expect(inResourceSet(prefix("logs/"), "logs/")).toBe(true);
    expect(inResourceSet(prefix("logs/"), "logs")).toBe(false);
    expect(inResourceSet(prefix("logs/"), "x/logs/a")).toBe(false);
    expect(inResourceSet(ALL, "")).toBe(true);
    expect(inResourceSet(ALL, "any/name ✓")).toBe(true);
  });

  it("none matches nothing", () => {
    expect(inResourceSet(NONE, "")).toBe(false);
    expect(inResourceSet(NONE, "a")).toBe(false);
  });

  it("compares code units exactly: case and unicode matter", () => {
    expect(inResourceSet(exact("Logs"), "logs")).toBe(false);
    expect(inResourceSet(prefix("ü/"), "ü/x")).toBe(true);
    expect(inResourceSet(prefix("ü/"), "u/x")).toBe(false);
  });
});

describe("scopeWithin", () => {
  const outer = scope({ basins: prefix("team-"), streams: prefix("logs/"), accessTokens: prefix("svc-"), groups: [["stream", "read"]], ops: ["append"] });

  it("holds for a subset of ops over nested resource sets", () => {
    expect(scopeWithin(scope({ basins: exact("team-a1234567"), streams: prefix("logs/app/"), accessTokens: exact("svc-1"), ops: ["read", "append"] }), outer)).toBe(true);
    expect(scopeWithin(outer, outer)).toBe(true);
  });

  it("ops are compared after expanding groups on both sides", () => {
    expect(scopeWithin(scope({ basins: NONE, ops: ["check-tail", "get-stream-config", "read", "stream-metrics"] }), outer)).toBe(true);
    expect(scopeWithin(scope({ groups: [["stream", "read"]] }), scope({ ops: ["check-tail", "get-stream-config", "read", "stream-metrics"] }))).toBe(true);
    expect(scopeWithin(scope({ groups: [["stream", "read"]] }), scope({ ops: ["check-tail", "get-stream-config", "read"] }))).toBe(false);
  });

  it("fails when the inner scope has any op the outer lacks", () => {
    expect(scopeWithin(scope({ ops: ["trim"] }), outer)).toBe(false);
    expect(scopeWithin(scope({ groups: [["stream", "write"]] }), outer)).toBe(false);
    expect(scopeWithin(scope({ ops: ["read", "list-basins"] }), outer)).toBe(false);
  });

  it("fails when any resource set is broader", () => {
    const ops: Operation[] = ["read"];
    expect(scopeWithin(scope({ basins: prefix("team"), ops }), outer)).toBe(false);
    expect(scopeWithin(scope({ basins: ALL, ops }), outer)).toBe(false);
    expect(scopeWithin(scope({ basins: exact("other-basin"), ops }), outer)).toBe(false);
    expect(scopeWithin(scope({ streams: prefix("log"), ops }), outer)).toBe(false);
    expect(scopeWithin(scope({ accessTokens: prefix(""), ops }), outer)).toBe(false);
    expect(scopeWithin(scope({ accessTokens: exact("svc"), ops }), outer)).toBe(false);
  });

  it("a prefix is never within an exact name, even the same string", () => {
    expect(scopeWithin(scope({ basins: prefix("team-a1234567"), ops: ["read"] }), scope({ basins: exact("team-a1234567"), ops: ["read"] }))).toBe(false);
  });

  it("none and exact \"\" are within anything, including none", () => {
    const empty = scope({ ops: ["read"] });
    expect(scopeWithin(scope({ basins: exact(""), streams: exact(""), accessTokens: exact(""), ops: ["read"] }), empty)).toBe(true);
    expect(scopeWithin(empty, empty)).toBe(true);
    expect(scopeWithin(scope({ streams: exact("a"), ops: ["read"] }), empty)).toBe(false);
  });

  it("everything is within the root scope", () => {
    expect(scopeWithin(ROOT_SCOPE, ROOT_SCOPE)).toBe(true);
    expect(scopeWithin(scope({ basins: ALL, streams: ALL, accessTokens: ALL, ops: [...OPERATIONS] }), ROOT_SCOPE)).toBe(true);
  });
});

const NOW = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

function request(parts: Partial<IssueRequest> = {}): IssueRequest {
  return { id: "t1", scope: scope({ basins: ALL, streams: ALL, ops: ["read"] }), autoPrefixStreams: false, expiresAtMs: null, ...parts };
}

function tokenIssuer(s: AccessScope, expiresAtMs: number | null = null, autoPrefixStreams = false): Principal {
  return { kind: "token", claims: { id: "issuer", scope: s, autoPrefixStreams, expiresAtMs } };
}

const ROOT: Principal = { kind: "root" };

describe("checkIssue: validation (422 invalid)", () => {
  it("refuses empty permissions with S2's message, even from root", () => {
    for (const s of [scope(), scope({ basins: ALL, streams: ALL, accessTokens: ALL, ops: [] })]) {
      expect(unwrapErr(checkIssue(ROOT, request({ scope: s }), NOW))).toEqual({ code: "invalid", message: "Access token permissions cannot be empty" });
    }
  });

  it("refuses auto_prefix_streams unless streams is a prefix set", () => {
    for (const streams of [NONE, exact("a"), exact("")]) {
      const error = unwrapErr(checkIssue(ROOT, request({ autoPrefixStreams: true, scope: scope({ streams, ops: ["read"] }) }), NOW));
      expect(error).toEqual({ code: "invalid", message: "Auto prefixing is only allowed for streams with prefix matching" });
    }
    expect(unwrap(checkIssue(ROOT, request({ autoPrefixStreams: true, scope: scope({ streams: prefix("t/"), ops: ["read"] }) }), NOW)).autoPrefixStreams).toBe(true);
  });

  it("checks the id: 1–96 UTF-8 bytes, not `.` or `..`", () => {
    for (const id of ["", ".", "..", "x".repeat(97), "é".repeat(49)]) {
      expect(unwrapErr(checkIssue(ROOT, request({ id }), NOW)).code, JSON.stringify(id)).toBe("invalid");
    }
    for (const id of ["a", "...", ".a", "x".repeat(96), "é".repeat(48), "a/b c"]) {
      expect(unwrap(checkIssue(ROOT, request({ id }), NOW)).id).toBe(id);
    }
  });

  it("refuses an expiry that is not in the future", () => {
    expect(unwrapErr(checkIssue(ROOT, request({ expiresAtMs: NOW }), NOW)).code).toBe("invalid");
    expect(unwrapErr(checkIssue(ROOT, request({ expiresAtMs: NOW - 1 }), NOW)).code).toBe("invalid");
    expect(unwrap(checkIssue(ROOT, request({ expiresAtMs: NOW + 1 }), NOW)).expiresAtMs).toBe(NOW + 1);
  });
});

describe("checkIssue: the issuer's own scope bounds what it issues", () => {
  it("root may issue anything, and its tokens never expire unless asked", () => {
    const req = request({ scope: { ...ROOT_SCOPE, ops: [...OPERATIONS] }, autoPrefixStreams: true });
    expect(unwrap(checkIssue(ROOT, req, NOW))).toEqual({ id: "t1", scope: req.scope, autoPrefixStreams: true, expiresAtMs: null });
    expect(unwrap(checkIssue(ROOT, request({ expiresAtMs: NOW + 1000 * HOUR }), NOW)).expiresAtMs).toBe(NOW + 1000 * HOUR);
  });

  it("a token may issue a narrower token", () => {
    const issuer = tokenIssuer(scope({ basins: prefix("b-"), streams: ALL, accessTokens: prefix("child-"), groups: [["stream", "read"], ["stream", "write"]] }));
    const claims = unwrap(checkIssue(issuer, request({ id: "child-1", scope: scope({ basins: exact("b-12345678"), streams: prefix("x/"), ops: ["append"] }) }), NOW));
    expect(claims).toMatchObject({ id: "child-1", expiresAtMs: null });
  });

  it("a token may not issue ops or resources beyond its own: 403 permission_denied", () => {
    const issuer = tokenIssuer(scope({ basins: prefix("b-"), streams: prefix("s/"), accessTokens: prefix("c-"), ops: ["read", "issue-access-token"] }));
    const broader: AccessScope[] = [
      scope({ basins: prefix("b-"), streams: prefix("s/"), ops: ["append"] }),
      scope({ basins: prefix("b-"), streams: prefix("s/"), groups: [["stream", "read"]] }),
      scope({ basins: ALL, streams: prefix("s/"), ops: ["read"] }),
      scope({ basins: prefix("b-"), streams: prefix(""), ops: ["read"] }),
      scope({ basins: prefix("b-"), streams: exact("t"), ops: ["read"] }),
      scope({ basins: prefix("b-"), streams: prefix("s/"), accessTokens: ALL, ops: ["read"] }),
    ];
    for (const s of broader) {
      expect(unwrapErr(checkIssue(issuer, request({ id: "c-1", scope: s }), NOW)).code, JSON.stringify(s)).toBe("permission_denied");
    }
  });

  it("the expiry defaults to the issuer's and may equal but not exceed it", () => {
    const issuer = tokenIssuer(scope({ basins: ALL, streams: ALL, ops: ["read"] }), NOW + HOUR);
    expect(unwrap(checkIssue(issuer, request(), NOW)).expiresAtMs).toBe(NOW + HOUR);
    expect(unwrap(checkIssue(issuer, request({ expiresAtMs: NOW + HOUR }), NOW)).expiresAtMs).toBe(NOW + HOUR);
    expect(unwrap(checkIssue(issuer, request({ expiresAtMs: NOW + 60_000 }), NOW)).expiresAtMs).toBe(NOW + 60_000);
    expect(unwrapErr(checkIssue(issuer, request({ expiresAtMs: NOW + HOUR + 1 }), NOW)).code).toBe("permission_denied");
  });

  it("a token that never expires may issue tokens that never expire", () => {
    const issuer = tokenIssuer(scope({ basins: ALL, streams: ALL, ops: ["read"] }), null);
    expect(unwrap(checkIssue(issuer, request(), NOW)).expiresAtMs).toBeNull();
  });

  it("anonymous callers can never issue", () => {
    const anonymous: Principal = { kind: "anonymous", ops: new Set(OPERATIONS) };
    expect(unwrapErr(checkIssue(anonymous, request(), NOW)).code).toBe("permission_denied");
  });
});

// ---- authorize.ts: the per-request decision, given a principal -------------------------------------------

const context = (principal: Principal) => ({ get: (key: string) => (key === "principal" ? principal : undefined) }) as unknown as AppContext;

function decision(principal: Principal, op: Operation, resources: Parameters<typeof authorize>[2] = {}): string {
  try {
    authorize(context(principal), op, resources);
    return "allowed";
  } catch (error) {
    if (error instanceof Rejection) return error.error.code;
    throw error;
  }
}

const claims = (s: AccessScope, autoPrefixStreams = false): TokenClaims => ({ id: "t", scope: s, autoPrefixStreams, expiresAtMs: null });

describe("authorize", () => {
  it("root may do everything", () => {
    for (const op of OPERATIONS) expect(decision(ROOT, op, { basin: "any-basin", stream: "x", accessToken: "y" })).toBe("allowed");
  });

  it("a token needs the op and every named resource in its sets", () => {
    const token: Principal = { kind: "token", claims: claims(scope({ basins: exact("b-one-1234"), streams: prefix("logs/"), accessTokens: prefix("svc-"), ops: ["read", "revoke-access-token", "list-basins"] })) };
    expect(decision(token, "read", { basin: "b-one-1234", stream: "logs/a" })).toBe("allowed");
    expect(decision(token, "append", { basin: "b-one-1234", stream: "logs/a" })).toBe("permission_denied");
    expect(decision(token, "read", { basin: "b-two-1234", stream: "logs/a" })).toBe("permission_denied");
    expect(decision(token, "read", { basin: "b-one-1234", stream: "other" })).toBe("permission_denied");
    expect(decision(token, "revoke-access-token", { accessToken: "svc-1" })).toBe("allowed");
    expect(decision(token, "revoke-access-token", { accessToken: "admin" })).toBe("permission_denied");
    // A listing names no resource: the op alone decides.
    expect(decision(token, "list-basins")).toBe("allowed");
  });

  it("anonymous callers get only the granted ops, refused as authn (401, not 403)", () => {
    const anonymous: Principal = { kind: "anonymous", ops: READ_OPERATIONS };
    expect(decision(anonymous, "read", { basin: "b-one-1234", stream: "s" })).toBe("allowed");
    expect(decision(anonymous, "append", { basin: "b-one-1234", stream: "s" })).toBe("authn");
  });

  it("streamPrefix is the stream prefix of an auto-prefixing token only", () => {
    expect(streamPrefix(ROOT)).toBe("");
    expect(streamPrefix({ kind: "token", claims: claims(scope({ streams: prefix("t/"), ops: ["read"] }), true) })).toBe("t/");
    expect(streamPrefix({ kind: "token", claims: claims(scope({ streams: prefix("t/"), ops: ["read"] }), false) })).toBe("");
  });

  it("listableWithin narrows listings to the token's sets; root and anonymous see everything", () => {
    const token: Principal = { kind: "token", claims: claims(scope({ basins: prefix("b-"), ops: ["list-basins"] })) };
    expect(listableWithin(token, "basins")).toEqual(prefix("b-"));
    expect(listableWithin(token, "streams")).toEqual(NONE);
    expect(listableWithin(ROOT, "accessTokens")).toBeUndefined();
  });;
});
