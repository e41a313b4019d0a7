/**
 * Result: expected failures are returned as data, never thrown. A Result survives a Durable Object RPC
 * boundary intact, where a thrown Error keeps only its name and message.
 */
export type Ok<T> = { ok: true; value: T };
export type Err<E> = { ok: false; error: E };
export type Result<T, E> = Ok<T> | Err<E>;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const err = <E>(error: E): Err<E> => ({ ok: false, error });
