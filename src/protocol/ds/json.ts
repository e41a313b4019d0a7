/**
 * JSON mode (PROTOCOL.md §9.1): an appended body is validated and flattened one level into messages, each
 * stored as one record whose body is the message's compact JSON text; a read returns the messages in range
 * as one JSON array. A record that is not JSON (written through S2 into a JSON stream) is returned as a JSON
 * string of its text, so such a read still yields valid JSON and keeps one element per record.
 */
import { streamError, type StreamError } from "../../domain/errors";
import { fromUtf8Lossy, fromUtf8Strict, utf8 } from "../../lib/bytes";
import { err, ok, type Result } from "../../lib/result";

/** `[a, b]` is two messages, `[[1, 2]]` one message `[1, 2]`, anything else one message; `[]` is none. */
export function parseJsonMessages(body: Uint8Array): Result<Uint8Array[], StreamError> {
  const text = fromUtf8Strict(body);
  if (text === undefined) return err(streamError("bad_json", "JSON body is not valid UTF-8"));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return err(streamError("bad_json", `invalid JSON: ${(error as Error).message}`));
  }
  const messages = Array.isArray(value) ? value : [value];
  return ok(messages.map((message) => utf8(JSON.stringify(message))));
}

/** One record as an element of a JSON array. */
export function jsonElement(body: Uint8Array): string {
  const text = fromUtf8Strict(body);
  if (text !== undefined && text.trim() !== "") {
    try {
      JSON.parse(text);
      return text;
    } catch {
      // Not JSON: fall through to a string element.
    }
  }
  return JSON.stringify(fromUtf8Lossy(body));
}

export const renderJsonArray = (bodies: readonly Uint8Array[]): string => `[${bodies.map(jsonElement).join(",")}]`;
