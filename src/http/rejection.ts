/**
 * How a handler of either protocol stops with an expected failure: it throws a Rejection carrying the
 * StreamError, and the route group's error handler renders it (S2 JSON or Durable Streams headers). Knows no
 * protocol, so auth, metrics and both protocols' handlers can share it without importing one another.
 */
import type { StreamError } from "../domain/errors";
import type { Result } from "../lib/result";

/** Carries an expected failure from a handler to the app's error handler, which renders it. */
export class Rejection extends Error {
  constructor(readonly error: StreamError) {
    super(error.code);
  }
}

/** The value of a Result, or the handler stops here and answers with its error. */
export function unwrap<T>(result: Result<T, StreamError>): T {
  if (!result.ok) throw new Rejection(result.error);
  return result.value;
}
