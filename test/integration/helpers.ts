// Shared plumbing for the workers (in-workerd) integration tests: drive the real Worker through
// `exports.default.fetch`, and look inside Durable Objects with `runInDurableObject`.
import { runInDurableObject } from "cloudflare:test";
import { env as rawEnv, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { Env } from "../../src/env";
import { rootAuthorization } from "../support/auth";

export const env = rawEnv as unknown as Env;

// `exports` is untyped until `wrangler types` declares the main module, hence the narrow cast.
const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;

export const ORIGIN = "http://localhost";

/** A unique, valid basin name (8–48 chars of a-z0-9-). Storage is shared by all tests of a file. */
export function uniqueBasin(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

export function uniqueStream(prefix = "s"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface Call {
  method?: string;
  basin?: string;
  /** JSON value (serialized with content-type application/json) unless `raw` is given. */
  json?: unknown;
  raw?: BodyInit;
  headers?: Record<string, string>;
}

export function call(path: string, init: Call = {}): Promise<Response> {
  const headers: Record<string, string> = { ...rootAuthorization, ...init.headers };
  if (init.basin !== undefined) headers["s2-basin"] = init.basin;
  let body: BodyInit | undefined = init.raw;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  return worker.fetch(`${ORIGIN}/v1${path}`, { method: init.method ?? "GET", headers, body });
}

/** Asserts an S2 error response: status, JSON content type, `{code, message}` body. */
export async function expectS2Error(res: Response, status: number, code: string): Promise<{ code: string; message: string }> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { code: string; message: string };
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe("string");
  return body;
}

export async function expectStatus(res: Response, status: number): Promise<unknown> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  return text === "" ? undefined : JSON.parse(text);
}

export async function createBasin(name: string, config?: unknown): Promise<void> {
  await expectStatus(await call("/basins", { method: "POST", json: { basin: name, ...(config ? { config } : {}) } }), 201);
}

export async function createStream(basin: string, stream: string, config?: unknown): Promise<void> {
  await expectStatus(await call("/streams", { method: "POST", basin, json: { stream, ...(config ? { config } : {}) } }), 201);
}

export const recordsPath = (stream: string) => `/streams/${encodeURIComponent(stream)}/records`;

export interface Position { seq_num: number; timestamp: number }
export interface Ack { start: Position; end: Position; tail: Position }

export function append(basin: string, stream: string, input: unknown, headers?: Record<string, string>): Promise<Response> {
  return call(recordsPath(stream), { method: "POST", basin, json: input, ...(headers ? { headers } : {}) });
}

export async function appendOk(basin: string, stream: string, bodies: string[]): Promise<Ack> {
  return (await expectStatus(await append(basin, stream, { records: bodies.map((body) => ({ body })) }), 200)) as Ack;
}

export async function tailOf(basin: string, stream: string): Promise<Position> {
  const body = (await expectStatus(await call(`${recordsPath(stream)}/tail`, { basin }), 200)) as { tail: Position };
  return body.tail;
}

export const streamObject = (basin: string, stream: string) => env.STREAMS.get(env.STREAMS.idFromName(`${basin}/${stream}`));

export interface StoredState {
  metaRows: number;
  batchRows: number;
  /** stream_meta's tail, or null when there is no stream_meta row. */
  tail: Position | null;
  batches: { start: number; end: number }[];
}

/** What the stream's object holds in SQLite (tables may be missing if the object never migrated). */
export function storedState(basin: string, stream: string): Promise<StoredState> {
  return runInDurableObject(streamObject(basin, stream), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = new Set(sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((r) => r.name));
    const meta = tables.has("stream_meta")
      ? sql.exec<{ next_seq_num: number; last_timestamp: number }>("SELECT next_seq_num, last_timestamp FROM stream_meta").toArray()
      : [];
    const batches = tables.has("record_batches")
      ? sql.exec<{ start_seq_num: number; end_seq_num: number }>("SELECT start_seq_num, end_seq_num FROM record_batches ORDER BY start_seq_num").toArray()
      : [];
    return {
      metaRows: meta.length,
      batchRows: batches.length,
      tail: meta[0] ? { seq_num: meta[0].next_seq_num, timestamp: meta[0].last_timestamp } : null,
      batches: batches.map((b) => ({ start: b.start_seq_num, end: b.end_seq_num })),
    };
  });
}

/** Key-value entries plus rows of every user table: 0 means the object holds no stream at all. */
export function storedItems(basin: string, stream: string): Promise<number> {
  return runInDurableObject(streamObject(basin, stream), async (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'schema_version'",
    ).toArray();
    let rows = 0;
    for (const { name } of tables) rows += sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`).one().n;
    return rows + (await state.storage.list()).size;
  });
}
