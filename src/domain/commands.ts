/**
 * Command records (S2-API §8.2): a record whose only header has an empty name. The header value names the
 * command; the body is its argument.
 */
import { fromUtf8Strict, utf8 } from "../lib/bytes";
import { err, ok, type Result } from "../lib/result";
import { TOKEN_BYTES_MAX } from "./limits";
import type { Header } from "./types";

export type Command = { kind: "fence"; token: string } | { kind: "trim"; trimPoint: number };

const FENCE = "fence";
const TRIM = "trim";
const TRIM_BODY_BYTES = 8;

/** undefined for an ordinary record; an error message for a malformed command. */
export function parseCommand(record: { headers: readonly Header[]; body: Uint8Array }): Result<Command | undefined, string> {
  const emptyNames = record.headers.filter(([name]) => name.length === 0).length;
  if (emptyNames === 0) return ok(undefined);
  if (record.headers.length > 1) return err("invalid header: empty name");
  const [, value] = record.headers[0]!;
  const command = fromUtf8Strict(value);
  if (command === FENCE) {
    const token = fromUtf8Strict(record.body);
    if (token === undefined) return err("fencing token must be valid UTF-8");
    if (record.body.length > TOKEN_BYTES_MAX) return err(`fencing token must not exceed ${TOKEN_BYTES_MAX} bytes`);
    return ok({ kind: "fence", token });
  }
  if (command === TRIM) {
    if (record.body.length !== TRIM_BODY_BYTES) return err("trim body must be an 8-byte big-endian seq num");
    return ok({ kind: "trim", trimPoint: readU64Clamped(record.body) });
  }
  return err("unknown command");
}

/** Big-endian u64, clamped to the safe-integer range (larger trim points trim everything anyway). */
function readU64Clamped(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const value = view.getBigUint64(0);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** The record a client appends to issue a command; used by tests and by protocols that expose commands. */
export function commandRecord(command: Command): { headers: Header[]; body: Uint8Array } {
  if (command.kind === "fence") return { headers: [[new Uint8Array(), utf8(FENCE)]], body: utf8(command.token) };
  const body = new Uint8Array(TRIM_BODY_BYTES);
  new DataView(body.buffer).setBigUint64(0, BigInt(command.trimPoint));
  return { headers: [[new Uint8Array(), utf8(TRIM)]], body };
}
