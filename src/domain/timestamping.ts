/**
 * Record timestamps (S2-API §9.4). Per record: base by mode → cap at arrival unless uncapped → raise to the
 * previous timestamp, so a stream's timestamps never decrease.
 */
import { err, ok, type Result } from "../lib/result";
import { invalid, type StreamError } from "./errors";
import { U64_SAFE_MAX } from "./limits";

export type TimestampingMode = "client-prefer" | "client-require" | "arrival";

export interface Timestamping {
  mode: TimestampingMode;
  uncapped: boolean;
}

export function assignTimestamps(
  clientTimestamps: readonly (number | undefined)[],
  timestamping: Timestamping,
  arrivalMs: number,
  previousTimestamp: number,
): Result<number[], StreamError> {
  const assigned: number[] = [];
  let previous = previousTimestamp;
  for (const client of clientTimestamps) {
    let timestamp: number;
    if (timestamping.mode === "arrival") timestamp = arrivalMs;
    else if (client !== undefined) timestamp = Math.min(client, U64_SAFE_MAX);
    else if (timestamping.mode === "client-require") return err(invalid("record timestamp was required but was missing"));
    else timestamp = arrivalMs;
    if (!timestamping.uncapped) timestamp = Math.min(timestamp, arrivalMs);
    timestamp = Math.max(timestamp, previous);
    assigned.push(timestamp);
    previous = timestamp;
  }
  return ok(assigned);
}
