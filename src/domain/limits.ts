/** Every cap the engine enforces, each with its reason and source. */

/** Records per append batch and per read batch (S2-API §8.4, RECORD_BATCH_MAX). */
export const RECORDS_PER_BATCH_MAX = 1000;

/** Metered bytes per append batch, per record and per read batch (S2-API §8.4): 1 MiB. */
export const METERED_BYTES_PER_BATCH_MAX = 1024 * 1024;

/** Fencing tokens and request tokens (S2-API §3). */
export const TOKEN_BYTES_MAX = 36;

/** Unary read waits are clamped to this (S2-API §10.3). */
export const UNARY_WAIT_SECS_MAX = 60;

/**
 * Unary request bodies, after decompression (s2-lite router limit, S2-API §2.3). A full 1 MiB batch in base64
 * JSON fits; anything larger could never be a valid batch.
 */
export const REQUEST_BODY_BYTES_MAX = 2 * 1024 * 1024;

/**
 * Seq nums and timestamps are stored in SQLite and bound from JS numbers, which are exact only below 2^53;
 * workerd rejects BigInt bindings (PLATFORM.md §1). Client timestamps above this are clamped to it.
 */
export const U64_SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** Page size of list calls: 0 or anything above means this (S2-API §5). */
export const LIST_LIMIT_MAX = 1000;
