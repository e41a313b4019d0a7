/**
 * The fuzz tests' shared judge (fuzz-*.test.ts): sends one request into the Worker (`exports.default.fetch`)
 * and decides whether the answer is a well-formed protocol answer. A problem is recorded, never thrown, so
 * one property run reports every bad answer it met:
 *
 * - no 5xx (but `501 not_implemented` on the routes S2 leaves unimplemented), no crash, no hang: headers
 *   within 10 s, a whole unary body within 10 s; live bodies (SSE, S2S) are read briefly then cancelled;
 * - S2 errors are JSON with S2's shapes (`{code, message}` with the code's status, the 412 and 416 bodies, or
 *   the router's empty 404/405), 401s carry a challenge; SSE streams are events S2 defines; S2S bodies are
 *   well-formed frames whose terminal frame, if any, is a 4xx with a JSON body;
 * - Durable Streams errors are plain text with the protocol's security headers.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { S2_STATUS } from "../../src/protocol/s2/errors";
import { decompress } from "../../src/protocol/compression";
import { FrameDecoder } from "../../src/protocol/s2/s2s";
import { rootAuthorization } from "../support/auth";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;

export interface FuzzRequest {
  method: string;
  /** Path and query, e.g. `/v1/streams/x/records?seq_num=0`. */
  path: string;
  headers: Record<string, string>;
  body?: BodyInit;
}

/** Codes an S2 error body may carry: S2's table, and the Durable Streams states seen through S2. */
const S2_CODES = new Set<string>([...Object.keys(S2_STATUS), "stream_closed", "content_type_mismatch", "producer_epoch_stale", "producer_seq_gap", "stream_seq_regression"]);
const HEADERS_TIMEOUT_MS = 10_000;
const BODY_TIMEOUT_MS = 10_000;
/** How long a live body is read before the client hangs up. */
const LIVE_READ_MS = 25;

export const validAuth = rootAuthorization;

export class Fuzzer {
  sent = 0;
  readonly problems: string[] = [];
  readonly statuses = new Map<number, number>();

  /** Sends the request and judges the answer; returns the status (0 if there was none). */
  async check(request: FuzzRequest): Promise<number> {
    this.sent++;
    let response: Response;
    try {
      response = await withTimeout(worker.fetch(`http://localhost${request.path}`, {
        method: request.method, headers: request.headers, body: request.body ?? null,
      }), HEADERS_TIMEOUT_MS, "no response headers");
    } catch (error) {
      // The client side refusing to send (e.g. a body on GET) is not the server's answer.
      if (error instanceof TypeError && !String(error.message).includes("no response headers")) return 0;
      this.#problem(request, `request failed: ${(error as Error).message}`);
      return 0;
    }
    this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
    try {
      const problem = await judge(request, response);
      if (problem) this.#problem(request, problem);
    } catch (error) {
      this.#problem(request, `judging failed: ${(error as Error).message}`);
    }
    return response.status;
  }

  /** Fails the test with the first problems found. */
  expectClean(minimumSent: number): void {
    expect(this.problems.slice(0, 10), `${this.problems.length} problems in ${this.sent} requests`).toEqual([]);
    expect(this.sent).toBeGreaterThanOrEqual(minimumSent);
  }

  #problem(request: FuzzRequest, problem: string): void {
    const body = typeof request.body === "string" ? request.body.slice(0, 200) : request.body instanceof Uint8Array ? `<${request.body.length} bytes>` : "";
    this.problems.push(`${problem} — ${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers).slice(0, 300)} ${body}`);
  }
}

const isDs = (path: string) => /^\/v1\/stream(\/|\?|$)/.test(path);
const unimplemented = (path: string) => /^\/v1\/(metrics|locations)(\/|\?|$)/.test(path);

async function judge(sent: FuzzRequest, res: Response): Promise<string | undefined> {
  // Judged by the path the server saw: the URL parser resolves `..` and `.` segments first.
  const request = { ...sent, path: new URL(`http://localhost${sent.path}`).pathname };
  const status = res.status;
  const type = res.headers.get("content-type") ?? "";
  if (res.webSocket) {
    res.webSocket.accept();
    res.webSocket.close(1000, "fuzz");
    return status === 101 ? undefined : `webSocket with status ${status}`;
  }
  if (status >= 500 && !(status === 501 && unimplemented(request.path))) {
    return `status ${status}: ${(await boundedText(res)).slice(0, 300)}`;
  }
  if (request.method === "HEAD") {
    const text = res.body ? await boundedText(res) : "";
    return text === "" ? undefined : `HEAD answered with a body: ${text.slice(0, 100)}`;
  }
  if (status === 200 && type.startsWith("text/event-stream")) return judgeSse(await liveBytes(res), isDs(request.path));
  if (status === 200 && type.startsWith("s2s/proto")) {
    // An append session's body ends when ours does; a read session follows until we hang up.
    const bytes = request.method === "POST" ? await wholeBody(res) : await liveBytes(res);
    return judgeFrames(bytes);
  }
  const text = await boundedText(res);
  if (request.path.startsWith("/v1") && status === 401 && !res.headers.get("www-authenticate")) return "401 without WWW-Authenticate";
  if (isDs(request.path)) return judgeDs(res, status, text);
  if (!request.path.startsWith("/v1")) return undefined;
  if (status < 400) {
    if (type.startsWith("application/json") && text !== "") return parses(text) ? undefined : `2xx JSON body does not parse: ${text.slice(0, 200)}`;
    return undefined;
  }
  return judgeS2Error(status, type, text);
}

function judgeS2Error(status: number, type: string, text: string): string | undefined {
  // s2-lite's router answers unknown paths and methods with an empty 404 / 405 (S2-API §1.1).
  if ((status === 404 || status === 405) && text === "") return undefined;
  if (!type.startsWith("application/json")) return `S2 error ${status} with content-type ${type}: ${text.slice(0, 200)}`;
  const body = parses(text) as Record<string, unknown> | undefined;
  if (!body || typeof body !== "object") return `S2 error ${status} body is not a JSON object: ${text.slice(0, 200)}`;
  const keys = Object.keys(body).sort().join(",");
  if (status === 412) {
    const ok = (keys === "seq_num_mismatch" && typeof body.seq_num_mismatch === "number")
      || (keys === "fencing_token_mismatch" && typeof body.fencing_token_mismatch === "string");
    return ok ? undefined : `412 body ${text}`;
  }
  if (status === 416) {
    const tail = body.tail as Record<string, unknown> | undefined;
    return keys === "tail" && typeof tail?.seq_num === "number" && typeof tail?.timestamp === "number" ? undefined : `416 body ${text}`;
  }
  if (keys !== "code,message" || typeof body.code !== "string" || typeof body.message !== "string") return `S2 error body ${text.slice(0, 200)}`;
  if (!S2_CODES.has(body.code)) return `unknown S2 error code ${body.code}`;
  const expected = (S2_STATUS as Record<string, number>)[body.code];
  if (expected !== undefined && expected !== status && body.code !== "stream_deletion_pending") return `code ${body.code} with status ${status}, expected ${expected}`;
  return undefined;
}

function judgeDs(res: Response, status: number, text: string): string | undefined {
  if (status < 400) return undefined;
  // Authentication runs before the Durable Streams routes and answers in S2's shape; the challenge is what counts.
  if (status === 401) return undefined;
  if (res.headers.get("x-content-type-options") !== "nosniff") return `DS error ${status} without the security headers`;
  if (status === 405 || status === 404) return undefined;
  const type = res.headers.get("content-type") ?? "";
  if (text !== "" && !type.startsWith("text/plain")) return `DS error ${status} with content-type ${type}: ${text.slice(0, 200)}`;
  return undefined;
}

const SSE_EVENTS = new Set(["batch", "ping", "error", "data", "control"]);

function judgeSse(bytes: Uint8Array, ds: boolean): string | undefined {
  const text = new TextDecoder().decode(bytes);
  // Only whole events: the last one may have been cut by our hang-up.
  const blocks = text.split("\n\n").slice(0, -1);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l !== "" && !l.startsWith(":"));
    const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim();
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
    if (event === undefined) {
      if (!ds && data !== "[DONE]") return `SSE event without a name: ${block.slice(0, 200)}`;
      continue;
    }
    if (!SSE_EVENTS.has(event)) return `SSE event ${event}`;
    if (event === "error") {
      const body = parses(data) as Record<string, unknown> | undefined;
      if (!body || typeof body.code !== "string") return `SSE error event data ${data.slice(0, 200)}`;
      if (body.code === "other" || body.code === "storage") return `SSE error event ${data.slice(0, 200)}`;
    }
    if ((event === "batch" || event === "ping" || event === "control") && !parses(data)) return `SSE ${event} data does not parse: ${data.slice(0, 200)}`;
  }
  return undefined;
}

function judgeFrames(bytes: Uint8Array): string | undefined {
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  for (;;) {
    const next = decoder.next();
    if (!next.ok) return `S2S response frames: ${next.error}`;
    if (!next.value) return undefined;
    if (next.value.terminal) {
      const { status, body } = next.value;
      if (status >= 500) return `S2S terminal frame ${status} ${body.slice(0, 200)}`;
      if (!parses(body)) return `S2S terminal frame body ${body.slice(0, 200)}`;
    }
  }
}

const parses = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The body as text, decoded per Content-Encoding as an HTTP client would (S2-API §1.6). */
async function boundedText(res: Response): Promise<string> {
  const raw = await wholeBody(res);
  const coding = res.headers.get("content-encoding")?.trim().toLowerCase();
  if (!coding || coding === "identity") return new TextDecoder().decode(raw);
  if (coding !== "gzip" && coding !== "zstd") throw new Error(`response with Content-Encoding ${coding}`);
  // workerd's fetch decodes gzip for its caller (the header stays); zstd arrives as sent.
  if (coding === "gzip" && !(raw[0] === 0x1f && raw[1] === 0x8b)) return new TextDecoder().decode(raw);
  const decoded = decompress(raw, coding, 64 * 1024 * 1024);
  if (!decoded.ok) throw new Error(`response body does not decode as ${coding}: ${decoded.error}`);
  return new TextDecoder().decode(decoded.value);
}

async function wholeBody(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await withTimeout(res.arrayBuffer(), BODY_TIMEOUT_MS, "body did not end"));
}

/** What a live body sends in its first moments; then we hang up, as a client that lost interest. */
async function liveBytes(res: Response): Promise<Uint8Array> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  const deadline = Date.now() + LIVE_READ_MS;
  try {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const next = await withTimeout(reader.read(), Math.max(left, 1), "quiet").catch(() => undefined);
      if (!next || next.done) break;
      chunks.push(next.value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
    }),
  ]);
}

/** Header values a fetch client sends as they are: visible ASCII and tabs (workerd re-encodes anything else). */
export function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/g, "").trim();
}
