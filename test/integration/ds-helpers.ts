// Durable Streams calls for the workers integration tests: `/v1/stream/{name}` through the real Worker.
import { runInDurableObject } from "cloudflare:test";
import { call, streamObject } from "./helpers";

/** The basin wrangler.toml configures for Durable Streams. */
export const DS_BASIN = "durable-streams";

export function ds(name: string, init: { method?: string; body?: BodyInit; headers?: Record<string, string>; query?: string } = {}) {
  const path = `/stream/${encodeURIComponent(name)}${init.query ? `?${init.query}` : ""}`;
  return call(path, { method: init.method ?? "GET", ...(init.body !== undefined ? { raw: init.body } : {}), headers: init.headers ?? {} });
}

/** A call to the reserved control APIs (`/v1/stream/__ds/…`), with a JSON body if one is given. */
export function control(path: string, init: { method?: string; body?: unknown } = {}) {
  return call(`/stream/__ds/${path}`, {
    method: init.method ?? "GET",
    ...(init.body === undefined ? {} : { json: init.body }),
  });
}

/** The stream's last access as its object stored it (the sliding-TTL clock); null without a lifecycle row. */
export function lastAccessMs(name: string): Promise<number | null> {
  return runInDurableObject(streamObject(DS_BASIN, name), (_instance, state) =>
    state.storage.sql.exec<{ last_access_ms: number }>("SELECT last_access_ms FROM stream_lifecycle").toArray()[0]?.last_access_ms ?? null);
}

/** How many forks the stream's object counts as holding it. */
export function forkRefs(name: string): Promise<number> {
  return runInDurableObject(streamObject(DS_BASIN, name), (_instance, state) =>
    state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM fork_refs").one().n);
}

/** Whether subscriptions have marked the stream as one whose appends they hear about. */
export function isWatched(name: string): Promise<boolean> {
  return runInDurableObject(streamObject(DS_BASIN, name), (_instance, state) =>
    (state.storage.sql.exec<{ watched: number }>("SELECT watched FROM stream_lifecycle").toArray()[0]?.watched ?? 0) === 1);
}
