/**
 * Counts and times every request the Worker answers (registry.ts), by route group; error responses also by
 * their code. The code comes from what the handler threw (a Rejection's StreamError, anything else `other`),
 * else from the S2 error response it returned (tagged by s2ErrorResponse), else `http_<status>` (empty
 * 404/405s from the router, Durable Streams responses built without a throw).
 */
import type { MiddlewareHandler } from "hono";
import type { StreamError } from "../../domain/errors";
import type { AppendPayload } from "../../domain/lifecycle";
import { meteredBytes } from "../../domain/metering";
import { guardedAppendBytes, guardedAppendRecords } from "../../domain/usage";
import type { AppendInput, SequencedRecord } from "../../domain/types";
import type { Result } from "../../lib/result";
import type { AppEnv } from "../context";
import { Rejection } from "../rejection";
import { isolateMetrics, taggedErrorCode, type Protocol } from "./registry";

/** The route group of a path: a fixed set, so labels never carry names. */
export function routeGroup(path: string): string {
  if (path === "/health" || path === "/ping") return "health";
  if (path === "/metrics") return "metrics";
  if (/^\/v1\/metrics(\/|$)/.test(path)) return "s2-metrics";
  if (/^\/v1\/(basins|access-tokens|locations)(\/|$)/.test(path)) return "s2-account";
  if (/^\/v1\/streams\/[^/]+\/records(\/|$)/.test(path)) return "s2-records";
  if (/^\/v1\/streams(\/|$)/.test(path)) return "s2-streams";
  if (/^\/v1\/stream\/__ds(\/|$)/.test(path)) return "ds-subscriptions";
  if (/^\/v1\/stream(\/|$)/.test(path)) return "ds";
  return "other";
}

export const observeRequests: MiddlewareHandler<AppEnv> = async function observeRequests(c, next) {
  const startMs = Date.now();
  await next();
  const { status } = c.res;
  let code: string | undefined;
  if (status >= 400) {
    const thrown = c.error;
    code = thrown instanceof Rejection ? thrown.error.code : thrown ? "other" : taggedErrorCode(c.res) ?? `http_${status}`;
  }
  isolateMetrics.request(routeGroup(c.req.path), status, Date.now() - startMs, code);
};

/** Records and metered bytes of an S2 append (S2-API §8.3). */
export function appendInputSize(input: AppendInput): { records: number; bytes: number } {
  return { records: input.records.length, bytes: input.records.reduce((sum, record) => sum + meteredBytes(record), 0) };
}

/** Runs an append RPC; an acknowledged one is counted, with the time its ack took. */
export async function observeAppend<T>(
  protocol: Protocol, size: { records: number; bytes: number }, call: () => Promise<Result<T, StreamError>>,
): Promise<Result<T, StreamError>> {
  const startMs = Date.now();
  const result = await call();
  if (result.ok) isolateMetrics.append(protocol, size.records, size.bytes, Date.now() - startMs);
  return result;
}

/** Records handed to a reader outside a read session (read-session.ts counts its own). */
export function observeDelivered(records: readonly SequencedRecord[]): void {
  isolateMetrics.delivered(records.length, records.reduce((sum, record) => sum + meteredBytes(record), 0));
}

/** An acknowledged Durable Streams append (not a producer's duplicate), with the time its ack took. */
export function observeGuardedAppend(payload: AppendPayload, latencyMs: number): void {
  const records = guardedAppendRecords(payload);
  isolateMetrics.append("ds", records, guardedAppendBytes(payload, records), latencyMs);
}
