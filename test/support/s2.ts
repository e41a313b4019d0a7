// Shared plumbing for the e2e suite: SDK clients pointed at the local server, raw HTTP, and assertions.
import {
  S2,
  S2Error,
  type S2Basin,
  type S2Stream,
  type BasinConfig,
  type StreamConfig,
} from "@s2-dev/streamstore";
import { expect, inject } from "vitest";
import { rootAuthorization, TEST_ROOT_TOKEN } from "./auth";
import { basinName, streamName } from "./names";

export function baseUrl(): string {
  return inject("baseUrl");
}

/**
 * Both endpoints are the local origin, so the SDK adds `s2-basin` to basin-scoped calls (spec §1.1).
 * One attempt only: a retried 5xx would hide the server's first answer from the assertion.
 */
export function client(): S2 {
  return new S2({
    accessToken: TEST_ROOT_TOKEN,
    endpoints: { account: baseUrl(), basin: baseUrl() },
    retry: { maxAttempts: 1 },
  });
}

/** The fetch transport (JSON, SSE), as browsers use it; sdk-sessions.test.ts covers the default S2S-over-h2c one. */
export function stream(basin: S2Basin, name: string): S2Stream {
  return basin.stream(name, { forceTransport: "fetch" });
}

export async function createBasin(s2: S2, prefix: string, config?: BasinConfig): Promise<S2Basin> {
  const name = basinName(prefix);
  await s2.basins.create({ basin: name, ...(config ? { config } : {}) });
  return s2.basin(name);
}

/** A new stream (created explicitly) in `basin`, with an SDK handle. */
export async function createStream(basin: S2Basin, config?: StreamConfig, prefix = "s"): Promise<S2Stream> {
  const name = streamName(prefix);
  await basin.streams.create({ stream: name, ...(config ? { config } : {}) });
  return stream(basin, name);
}

/** Awaits a rejection and checks it is the S2 error the spec prescribes. */
export async function expectS2Error(
  promise: Promise<unknown>,
  status: number,
  code?: string,
): Promise<S2Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected HTTP ${status}${code ? ` ${code}` : ""}, but the call succeeded`).toBeDefined();
  expect(caught).toBeInstanceOf(S2Error);
  const err = caught as S2Error;
  expect({ status: err.status, code: err.code, message: err.message }).toMatchObject({
    status,
    ...(code ? { code } : {}),
  });
  return err;
}

export const SYSTEM_DEFAULT_STREAM_CONFIG = {
  storageClass: "express",
  retentionPolicy: { ageSecs: 604800 },
  timestamping: { mode: "client-prefer", uncapped: false },
  deleteOnEmpty: { minAgeSecs: 0 },
} as const;

/**
 * lite returns every field resolved, the cloud omits defaults (spec §4.1) and clients accept both;
 * so compare configs after filling system defaults into whatever the server left out.
 */
export function resolved(config: StreamConfig | null | undefined): Record<string, unknown> {
  const c = config ?? {};
  return {
    storageClass: c.storageClass ?? SYSTEM_DEFAULT_STREAM_CONFIG.storageClass,
    retentionPolicy: c.retentionPolicy ?? SYSTEM_DEFAULT_STREAM_CONFIG.retentionPolicy,
    timestamping: {
      mode: c.timestamping?.mode ?? SYSTEM_DEFAULT_STREAM_CONFIG.timestamping.mode,
      uncapped: c.timestamping?.uncapped ?? SYSTEM_DEFAULT_STREAM_CONFIG.timestamping.uncapped,
    },
    deleteOnEmpty: { minAgeSecs: c.deleteOnEmpty?.minAgeSecs ?? 0 },
  };
}

/** Drops null/undefined members recursively: "absent" and "null" are the same answer on the wire. */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      const c = compact(v);
      // An all-null nested object (e.g. `default_stream_config` as stored by lite) means "nothing set".
      if (c && typeof c === "object" && !Array.isArray(c) && Object.keys(c).length === 0 && k !== "infinite") continue;
      out[k] = c;
    }
    return out;
  }
  return value;
}

/** A timestamp in ms must fall inside the wall-clock window of the call that produced it. */
export function expectArrival(ts: number | Date, before: number, after: number, slackMs = 5_000): void {
  const ms = typeof ts === "number" ? ts : ts.getTime();
  expect(ms).toBeGreaterThanOrEqual(before - slackMs);
  expect(ms).toBeLessThanOrEqual(after + slackMs);
}

// ---- raw HTTP -------------------------------------------------------------------------------------------

export interface RawInit {
  method?: string;
  basin?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
}

/** `fetch` against `/v1<path>` with auth, optional `s2-basin` and JSON body. */
export async function api(path: string, init: RawInit = {}): Promise<Response> {
  const headers: Record<string, string> = { ...rootAuthorization, ...init.headers };
  if (init.basin) headers["s2-basin"] = init.basin;
  let body: string | Uint8Array | undefined = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  return fetch(`${baseUrl()}/v1${path}`, { method: init.method ?? "GET", headers, body });
}

/** Reads a response as JSON, failing the test with the raw text if it is not JSON. */
export async function jsonOf(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON body from HTTP ${res.status}, got: ${JSON.stringify(text.slice(0, 300))}`);
  }
}

/** Asserts the standard error shape (spec §2.1) with exact status and code. */
export async function expectErrorBody(res: Response, status: number, code: string): Promise<void> {
  const body = await jsonOf(res);
  expect({ status: res.status, body }).toMatchObject({ status, body: { code } });
  expect(Object.keys(body).sort()).toEqual(["code", "message"]);
  expect(typeof body.message).toBe("string");
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
}

export function b64(s: string | Uint8Array): string {
  return Buffer.from(typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("base64");
}

export { basinName, streamName };
