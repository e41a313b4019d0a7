/**
 * Worker bindings, and the one place Durable Object names are derived from basin and stream names.
 */
import type { AccountObject } from "./control/account-object";
import type { BasinObject } from "./control/basin-object";
import type { SubscriptionObject } from "./control/subscription-object";
import type { SealVars } from "./stream/seal-policy";
import type { StreamObject } from "./stream/stream-object";

/** Sealing thresholds (stream/seal-policy.ts documents each and its default). */
export interface Env extends SealVars {
  STREAMS: DurableObjectNamespace<StreamObject>;
  BASINS: DurableObjectNamespace<BasinObject>;
  ACCOUNT: DurableObjectNamespace<AccountObject>;
  SUBSCRIPTIONS: DurableObjectNamespace<SubscriptionObject>;
  SEGMENTS: R2Bucket;
  /** Hosts `{basin}.<BASIN_DOMAIN>` imply the basin, as `{basin}.b.s2.dev` does on s2.dev. Default `localhost`. */
  BASIN_DOMAIN?: string;
  /** Secret: the token with every permission; it also keys the signatures of issued tokens. */
  ROOT_TOKEN?: string;
  /** Operator grant for requests without a token: `none` (default), `read` or `all` (local development). */
  ANONYMOUS_ACCESS?: string;
  /** The basin whose streams Durable Streams serves under `/v1/stream/` (created on first use). */
  DS_BASIN?: string;
  /** How long a Durable Streams long-poll waits for data before answering 204, in ms (default 20000). */
  DS_LONG_POLL_TIMEOUT_MS?: string;
  /**
   * Durable Streams subscriptions (`/v1/stream/__ds/…`): `off` (default), `on`, or `local`, which also allows
   * plain-http webhooks to localhost / 127.0.0.x for local development.
   */
  DS_SUBSCRIPTIONS?: string;
}

/**
 * A Durable Object as its callers see it: every method async, returning exactly the domain values it
 * returns. Structured clone carries them intact (tuples arrive as arrays, which is what they are at run
 * time); the runtime's own stub typing would widen them, so the stubs are typed once, here.
 */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** Basin names cannot contain `/`, so `basin/stream` names each stream's object unambiguously. */
export const streamStub = (env: Env, basin: string, stream: string, locationHint?: DurableObjectLocationHint) =>
  env.STREAMS.get(env.STREAMS.idFromName(`${basin}/${stream}`), locationHint ? { locationHint } : {}) as unknown as Remote<StreamObject>;

export const basinStub = (env: Env, basin: string) =>
  env.BASINS.get(env.BASINS.idFromName(basin)) as unknown as Remote<BasinObject>;

/** One account per deployment: the basin registry. */
export const accountStub = (env: Env) =>
  env.ACCOUNT.get(env.ACCOUNT.idFromName("account")) as unknown as Remote<AccountObject>;

/** One subscription object per basin: every Durable Streams subscription of that basin. */
export const subscriptionsStub = (env: Env, basin: string) =>
  env.SUBSCRIPTIONS.get(env.SUBSCRIPTIONS.idFromName(basin)) as unknown as Remote<SubscriptionObject>;
