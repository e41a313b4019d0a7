// Shared plumbing for the auth integration tests: issue tokens with the root token, call as a token.
import { expect } from "vitest";
import { exports } from "cloudflare:workers";
import { call, expectS2Error, ORIGIN, type Call } from "./helpers";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;

/** `call` without any Authorization header. */
export function anonymous(path: string, init: Call = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.basin !== undefined) headers["s2-basin"] = init.basin;
  let body = init.raw;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  return worker.fetch(`${ORIGIN}/v1${path}`, { method: init.method ?? "GET", headers, body });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A token id unique to this run. */
export const tokenId = (prefix = "t") => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

export type Op = string;

/** S2's JSON scope; unspecified resource sets default to "everything" here to keep tests short. */
export interface ScopeJson {
  basins?: { exact: string } | { prefix: string } | null;
  streams?: { exact: string } | { prefix: string } | null;
  access_tokens?: { exact: string } | { prefix: string } | null;
  op_groups?: Partial<Record<"account" | "basin" | "stream", { read?: boolean; write?: boolean } | null>> | null;
  ops?: Op[] | null;
}

export const ALL = { prefix: "" } as const;

export interface IssueOptions {
  id?: string;
  expires_at?: string | null;
  auto_prefix_streams?: boolean;
  /** The issuer's bearer token; root when absent. */
  as?: string;
  /** Leave resource sets the caller did not name absent (= none) instead of filling in "everything". */
  literal?: boolean;
}

export function issueRaw(scope: ScopeJson, options: IssueOptions = {}): Promise<Response> {
  const full = options.literal ? scope : { basins: ALL, streams: ALL, access_tokens: ALL, ...scope };
  const body: Record<string, unknown> = { id: options.id ?? tokenId(), scope: full };
  if (options.expires_at !== undefined) body.expires_at = options.expires_at;
  if (options.auto_prefix_streams !== undefined) body.auto_prefix_streams = options.auto_prefix_streams;
  return call("/access-tokens", { method: "POST", json: body, headers: options.as ? bearer(options.as) : {} });
}

/** Issues a token (expecting 201) and returns its secret. */
export async function issue(scope: ScopeJson, options: IssueOptions = {}): Promise<string> {
  const res = await issueRaw(scope, options);
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status: 201 });
  const body = JSON.parse(text) as { access_token: string };
  expect(Object.keys(body)).toEqual(["access_token"]);
  expect(typeof body.access_token).toBe("string");
  return body.access_token;
}

/** `call` with this token instead of the root token. */
export function as(token: string, path: string, init: Call = {}): Promise<Response> {
  return call(path, { ...init, headers: { ...init.headers, ...bearer(token) } });
}

/** A 403 permission_denied whose body does not repeat the token. */
export async function expectDenied(res: Response, token: string): Promise<void> {
  const body = await expectS2Error(res.clone(), 403, "permission_denied");
  expect(JSON.stringify(body)).not.toContain(token);
  expect(await res.text()).not.toContain(token);
}

/** A 401 authn with an RFC 6750 challenge, neither of which repeats the token. */
export async function expectAuthn(res: Response, token?: string, invalidToken = true): Promise<void> {
  const challenge = res.headers.get("www-authenticate");
  const text = await res.clone().text();
  await expectS2Error(res, 401, "authn");
  expect(challenge ?? "(no WWW-Authenticate header)").toMatch(/^Bearer realm="[^"]+"/);
  if (invalidToken) expect(challenge).toContain('error="invalid_token"');
  else expect(challenge).not.toContain("error=");
  if (token) {
    expect(text).not.toContain(token);
    expect(challenge).not.toContain(token);
  }
}
