/**
 * Request plumbing of the Durable Streams edge: which engine stream a URL names, the stream's object, the
 * basin Durable Streams lives in (ensured on first create), and responses carrying DS errors.
 */
import { resolveStreamConfig, DEFAULT_BASIN_CONFIG, type StreamConfig } from "../../domain/config";
import { streamError, type StreamError } from "../../domain/errors";
import { checkStreamName } from "../../domain/names";
import { accountStub, streamStub, type Env } from "../../env";
import { err, ok, type Result } from "../../lib/result";
import { renderDsError } from "../../protocol/ds/errors";
import { CONTROL_SEGMENT } from "../../protocol/ds/headers";
import { streamNameFromPath } from "../../protocol/ds/requests";
import type { Operation } from "../../domain/access";
import { authorize } from "../auth/authorize";
import type { AppContext } from "../context";
import { Rejection } from "../rejection";

export type DsContext = AppContext;

const DEFAULT_DS_BASIN = "durable-streams";
const DEFAULT_LONG_POLL_TIMEOUT_MS = 20_000;

export const dsBasin = (env: Env): string => env.DS_BASIN || DEFAULT_DS_BASIN;

export function longPollTimeoutMs(env: Env): number {
  const configured = Number(env.DS_LONG_POLL_TIMEOUT_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_LONG_POLL_TIMEOUT_MS;
}

/** The engine stream a URL names: its path below `/v1/stream/`, percent-decoded (`a%2Fb` and `a/b` alike). */
export function streamNameOf(c: DsContext): Result<string, StreamError> {
  const name = streamNameFromPath(new URL(c.req.url).pathname);
  if (name === undefined) return err(streamError("bad_path", "malformed stream path"));
  const problem = checkStreamName(name);
  if (problem) return err(streamError("bad_path", problem));
  // However it is encoded, a first segment `__ds` names the control APIs, never a stream (PROTOCOL.md §6).
  if (name.split("/")[0] === CONTROL_SEGMENT) return err(streamError("bad_path", `stream paths under ${CONTROL_SEGMENT}/ are reserved`));
  return ok(name);
}

export const dsStub = (env: Env, name: string) => streamStub(env, dsBasin(env), name);

/**
 * Durable Streams requests are authorized as the S2 operations they are, on the stream in the Durable Streams
 * basin: PUT create-stream, POST append, GET and HEAD read, DELETE delete-stream (and read on a fork's source).
 */
export function authorizeOn(c: DsContext, op: Operation, stream: string): void {
  authorize(c, op, { basin: dsBasin(c.env), stream });
}

/**
 * The engine config of a new Durable Streams stream: the basin's defaults, except retention, which is
 * infinite because a Durable Streams stream keeps its data until it is deleted or expires (its TTL).
 * Creates the basin the first time, with the default basin config.
 */
export async function newStreamConfig(env: Env): Promise<Result<StreamConfig, StreamError>> {
  const cached = basinConfig.get(dsBasin(env));
  if (cached && Date.now() - cached.atMs < BASIN_CONFIG_TRUST_MS) return ok(cached.config);
  const config = await fetchStreamConfig(env);
  if (config.ok) basinConfig.set(dsBasin(env), { config: config.value, atMs: Date.now() });
  return config;
}

/**
 * Creates ask the account for the basin's defaults at most this often per isolate: every create would
 * otherwise wait on the one AccountObject. A changed default reaches new streams this much later.
 */
const BASIN_CONFIG_TRUST_MS = 10_000;
const basinConfig = new Map<string, { config: StreamConfig; atMs: number }>();

async function fetchStreamConfig(env: Env): Promise<Result<StreamConfig, StreamError>> {
  const account = accountStub(env);
  const basin = dsBasin(env);
  let found = await account.getBasin(basin);
  if (!found.ok && found.error.code === "basin_not_found") {
    const created = await account.createBasin({ name: basin, config: DEFAULT_BASIN_CONFIG, location: null, fingerprint: null });
    if (!created.ok && created.error.code !== "resource_already_exists") return created;
    found = await account.getBasin(basin);
  }
  if (!found.ok) return found;
  if (found.value.info.deletedAtMs !== null) return err(streamError("basin_deletion_pending", "the Durable Streams basin is being deleted"));
  return ok(resolveStreamConfig({ retentionPolicy: { kind: "infinite" } }, found.value.config.defaultStreamConfig));
}

/** The one catch-all of Durable Streams routes: expected failures as DS errors, anything else a logged 500. */
export function dsOnError(error: Error): Response {
  if (error instanceof Rejection) return dsErrorResponse(error.error);
  console.error("durable streams: unhandled error", error);
  return dsErrorResponse(streamError("other", "internal error"));
}

export function dsErrorResponse(error: StreamError): Response {
  const { status, headers, body } = renderDsError(error);
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
