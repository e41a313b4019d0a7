/**
 * Name rules for basins, streams and list prefixes (S2-API §3). Validators return an error message or
 * undefined; the caller knows where the name came from (path, header, query, body) and so which error code
 * the protocol wants.
 */
import { utf8 } from "../lib/bytes";

const BASIN_NAME = /^[a-z0-9][a-z0-9-]{6,46}[a-z0-9]$/;
const BASIN_PREFIX = /^(?:[a-z0-9][a-z0-9-]*)?$/;
const BASIN_NAME_BYTES_MAX = 48;
const STREAM_NAME_BYTES_MAX = 512;

export function checkBasinName(name: string): string | undefined {
  if (BASIN_NAME.test(name)) return undefined;
  return "basin name must be 8-48 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit";
}

/** Prefixes and start_after values of basin listings: may be empty, may end with a hyphen. */
export function checkBasinPrefix(prefix: string): string | undefined {
  if (prefix.length <= BASIN_NAME_BYTES_MAX && BASIN_PREFIX.test(prefix)) return undefined;
  return "basin prefix must be at most 48 lowercase letters, digits and hyphens, starting with a letter or digit";
}

export function checkStreamName(name: string): string | undefined {
  const bytes = utf8(name).length;
  if (bytes < 1 || bytes > STREAM_NAME_BYTES_MAX) return "stream name must be 1-512 bytes";
  if (name === "." || name === "..") return "stream name must not be `.` or `..`";
  // A tightening the newest S2 spec text also makes: NUL cannot be carried safely through every client.
  if (name.includes("\0")) return "stream name must not contain NUL";
  return undefined;
}

export function checkStreamPrefix(prefix: string): string | undefined {
  if (utf8(prefix).length > STREAM_NAME_BYTES_MAX) return "stream prefix must be at most 512 bytes";
  if (prefix.includes("\0")) return "stream prefix must not contain NUL";
  return undefined;
}
