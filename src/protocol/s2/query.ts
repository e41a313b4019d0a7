/**
 * S2 query strings (S2-API §5, §10.1): list pagination and read start / limits. Unparsable values are
 * `400 bad_query`; contradictions the domain can name (two starts) are `422 invalid`.
 */
import { invalid, streamError, type StreamError } from "../../domain/errors";
import { LIST_LIMIT_MAX, U64_SAFE_MAX } from "../../domain/limits";
import type { ListQuery } from "../../domain/resources";
import type { ReadLimits, ReadRequest, ReadStart } from "../../domain/types";
import { err, ok, type Result } from "../../lib/result";

const badQuery = (message: string) => streamError("bad_query", message);
const DIGITS = /^[0-9]+$/;

/** u64 query values; beyond 2^53 they clamp, which for seq nums and timestamps means "beyond the tail". */
function u64(params: URLSearchParams, name: string): Result<number | undefined, StreamError> {
  const text = params.get(name);
  if (text === null) return ok(undefined);
  if (!DIGITS.test(text)) return err(badQuery(`${name}: expected a non-negative integer`));
  return ok(Math.min(Number(text), U64_SAFE_MAX));
}

export function parseListQuery(
  params: URLSearchParams,
  checkPrefix: (prefix: string) => string | undefined,
): Result<ListQuery, StreamError> {
  const prefix = params.get("prefix") ?? "";
  const startAfter = params.get("start_after") ?? "";
  for (const [name, value] of [["prefix", prefix], ["start_after", startAfter]] as const) {
    const problem = checkPrefix(value);
    if (problem) return err(badQuery(`${name}: ${problem}`));
  }
  const limit = u64(params, "limit");
  if (!limit.ok) return limit;
  const requested = limit.value ?? LIST_LIMIT_MAX;
  return ok({ prefix, startAfter, limit: requested === 0 || requested > LIST_LIMIT_MAX ? LIST_LIMIT_MAX : requested });
}

export function parseReadQuery(params: URLSearchParams): Result<ReadRequest, StreamError> {
  const values: Record<string, number | undefined> = {};
  for (const name of ["seq_num", "timestamp", "tail_offset", "count", "bytes", "until", "wait"]) {
    const value = u64(params, name);
    if (!value.ok) return value;
    values[name] = value.value;
  }
  const clampText = params.get("clamp");
  if (clampText !== null && clampText !== "true" && clampText !== "false") return err(badQuery("clamp: expected true or false"));

  const starts: ReadStart[] = [];
  if (values.seq_num !== undefined) starts.push({ kind: "seq_num", seqNum: values.seq_num });
  if (values.timestamp !== undefined) starts.push({ kind: "timestamp", timestamp: values.timestamp });
  if (values.tail_offset !== undefined) starts.push({ kind: "tail_offset", tailOffset: values.tail_offset });
  if (starts.length > 1) return err(invalid("only one of seq_num, timestamp, or tail_offset can be provided"));

  const limits: ReadLimits = {};
  if (values.count !== undefined) limits.count = values.count;
  if (values.bytes !== undefined) limits.bytes = values.bytes;
  if (values.until !== undefined) limits.until = values.until;
  const request: ReadRequest = {
    // No start means the tail (S2-API §10.1), unlike the SDKs' default of seq_num 0.
    start: starts[0] ?? { kind: "tail_offset", tailOffset: 0 },
    limits,
    clamp: clampText === "true",
  };
  if (values.wait !== undefined) request.waitSecs = values.wait;
  return ok(request);
}
