/**
 * What the history clients share: where they send requests (a Target, so the same clients run over real
 * sockets in Node and through `exports.default.fetch` inside workerd), how an S2 answer maps to an append
 * outcome, S2 JSON records in both `s2-format`s, and a small server-sent-events parser.
 */
import type { AppendOutcome, Header, RecordData } from "./model";
import type { HistoryRecorder, ReaderLog, RecordShape } from "./recorder";

/** A stream under test and a way to reach its server. `fetch` takes a path such as `/v1/streams/x/records`. */
export interface Target {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  token: string;
  basin: string;
  stream: string;
}

/** Everything a client loop needs. Writers stop at `writersStop`, readers at `readersStop`. */
export interface ClientContext {
  target: Target;
  recorder: HistoryRecorder;
  random: () => number;
  shape: RecordShape;
  writersStop: AbortSignal;
  readersStop: AbortSignal;
  /** A call that takes longer than this is abandoned (its outcome unknown). */
  callTimeoutMs: number;
  /** Counters by name, for the run's report (progress of each client kind). */
  count(name: string, by?: number): void;
}

export const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  if (signal?.aborted) return resolve();
  const timer = setTimeout(done, ms);
  function done() {
    clearTimeout(timer);
    signal?.removeEventListener("abort", done);
    resolve();
  }
  signal?.addEventListener("abort", done);
});

/**
 * Lets timers run. Inside workerd a client that loops over in-process `exports.default.fetch` calls never
 * gives the event loop a turn (timers starve: a run would never end), so every client loop yields here once
 * per iteration.
 */
export const yieldToTimers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Runs `call` with a signal that aborts after `timeoutMs` or when any of `signals` does, and clears its timer
 * and listeners afterwards (AbortSignal.timeout would leave one timer per call running, and workerd caps
 * active timers at 10,000). The call must finish with the response inside, body included.
 */
export async function timed<T>(timeoutMs: number, signals: readonly AbortSignal[], call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort(new Error(`timed out after ${timeoutMs} ms or stopped`));
  const timer = setTimeout(abort, timeoutMs);
  for (const s of signals) {
    if (s.aborted) abort();
    s.addEventListener("abort", abort);
  }
  try {
    return await call(controller.signal);
  } finally {
    clearTimeout(timer);
    for (const s of signals) s.removeEventListener("abort", abort);
  }
}

/**
 * The loop of every HTTP reader: `session` reads from the log's position until it ends or fails; after a
 * failure the reader reconnects from its position following a short random pause, until `readersStop`.
 */
export async function runReader(
  ctx: ClientContext, client: string, kind: string, start: number, session: (log: ReaderLog) => Promise<void>,
): Promise<ReaderLog> {
  const log = ctx.recorder.reader(client, kind, start);
  while (!ctx.readersStop.aborted) {
    await yieldToTimers();
    try {
      await session(log);
    } catch {
      if (ctx.readersStop.aborted) break;
      ctx.count(`read.${kind}.reconnect`);
      await sleep(50 + ctx.random() * 100, ctx.readersStop);
    }
  }
  return log;
}

export const recordsPath = (t: Target) => `/v1/streams/${encodeURIComponent(t.stream)}/records`;

export function s2Headers(t: Target, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${t.token}`, "s2-basin": t.basin, ...extra };
}

/**
 * What an S2 error response means for an append (S2-API §2.2): 412 carries the server's value; other 4xx
 * promise no side effect, except 408 request_timeout and 499 client_hangup; 5xx promise nothing.
 */
export async function s2Failure(res: Response): Promise<AppendOutcome> {
  const text = await res.text().catch(() => "");
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: judged by status alone.
  }
  if (res.status === 412 && typeof body.seq_num_mismatch === "number") return { type: "seq_num_mismatch", expected: body.seq_num_mismatch };
  if (res.status === 412 && typeof body.fencing_token_mismatch === "string") {
    return { type: "fencing_token_mismatch", expected: body.fencing_token_mismatch };
  }
  const code = typeof body.code === "string" ? body.code : "";
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 499) return { type: "rejected", status: res.status, code };
  return { type: "unknown", reason: `HTTP ${res.status} ${code || text.slice(0, 80)}` };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A record as S2 JSON (S2-API §8.5): `raw` needs UTF-8 text, `base64` takes any bytes. */
export function renderJsonRecord(record: RecordData, format: "raw" | "base64"): Record<string, unknown> {
  const enc = format === "raw" ? (b: Uint8Array) => decoder.decode(b) : toBase64;
  const out: Record<string, unknown> = { body: enc(record.body) };
  if (record.headers.length > 0) out.headers = record.headers.map(([n, v]) => [enc(n), enc(v)]);
  return out;
}

export interface JsonRecord {
  seq_num: number;
  timestamp: number;
  headers?: [string, string][];
  body?: string;
}

export function parseJsonRecord(r: JsonRecord, format: "raw" | "base64"): { seqNum: number; timestamp: number; headers: Header[]; body: Uint8Array } {
  const dec = format === "raw" ? (s: string) => encoder.encode(s) : fromBase64;
  return {
    seqNum: r.seq_num,
    timestamp: r.timestamp,
    headers: (r.headers ?? []).map(([n, v]) => [dec(n), dec(v)] as const),
    body: dec(r.body ?? ""),
  };
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Server-sent events from a response body, as an EventSource parses them (fields, blank-line ends). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event: SseEvent = { event: "message", data: "" };
  let hasData = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      for (let nl = buffer.search(/\r\n|\r|\n/); nl >= 0; nl = buffer.search(/\r\n|\r|\n/)) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (hasData || event.event !== "message") yield event;
          event = { event: "message", data: "" };
          hasData = false;
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event.event = value;
        else if (field === "id") event.id = value;
        else if (field === "data") {
          event.data = hasData ? `${event.data}\n${value}` : value;
          hasData = true;
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
