// Minimal S2 v1 client over node:http: only 127.0.0.1, explicit agents, every request with a timeout.
import http from "node:http";
import { performance } from "node:perf_hooks";

export class HttpError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** A keep-alive agent for unary calls; `sockets` caps concurrent connections. */
export function unaryAgent(sockets = 16) {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, noDelay: true });
}

/**
 * One HTTP request; resolves { status, headers, body: Buffer, text, sentAt, doneAt } (performance.now() ms).
 * `text` decodes the body only when asked, so binary catch-up reads pay for no string they never look at.
 */
export function request(baseUrl, method, path, { headers = {}, body, agent, timeoutMs = 30_000 } = {}) {
  const url = new URL(path, baseUrl);
  if (url.hostname !== "127.0.0.1") throw new Error(`bench only talks to 127.0.0.1, not ${url.hostname}`);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = http.request(url, {
      method,
      agent,
      headers: payload ? { ...headers, "content-length": payload.length } : headers,
      signal: AbortSignal.timeout(timeoutMs),
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        let text;
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body,
          get text() { return (text ??= body.toString("utf8")); },
          sentAt,
          doneAt: performance.now(),
        });
      });
      res.on("error", reject);
    });
    req.on("error", (err) => reject(err.name === "AbortError"
      ? new Error(`${method} ${path}: no response within ${timeoutMs} ms (${req.reusedSocket ? "reused keep-alive" : "new"} connection)`)
      : err));
    const sentAt = performance.now();
    req.end(payload);
  });
}

/** S2 calls used by the scenarios. */
export class S2Client {
  constructor(baseUrl, { agent = unaryAgent(), timeoutMs = 30_000, token } = {}) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.agent = agent;
    this.timeoutMs = timeoutMs;
  }

  async #json(method, path, { basin, json, headers = {}, expect = [200], agent = this.agent, timeoutMs = this.timeoutMs } = {}) {
    const h = { accept: "application/json", ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (basin) h["s2-basin"] = basin;
    let body;
    if (json !== undefined) {
      h["content-type"] = "application/json";
      body = typeof json === "string" ? json : JSON.stringify(json);
    }
    const res = await request(this.baseUrl, method, `/v1${path}`, { headers: h, body, agent, timeoutMs });
    if (!expect.includes(res.status)) {
      throw new HttpError(`${method} /v1${path}: HTTP ${res.status} ${res.text.slice(0, 300)}`, res.status, res.text);
    }
    return { ...res, json: res.text ? JSON.parse(res.text) : undefined };
  }

  createBasin(basin) {
    return this.#json("POST", "/basins", { json: { basin }, expect: [201] });
  }

  createStream(basin, stream) {
    return this.#json("POST", "/streams", { basin, json: { stream }, expect: [201] });
  }

  /**
   * Appends `bodies` (strings, s2-format raw) as one batch. `jsonText` may carry a pre-serialised AppendInput.
   * Resolves { ack, sentAt, doneAt }; rejects with HttpError on any non-200.
   */
  async append(basin, stream, bodies, { agent, jsonText, timeoutMs } = {}) {
    const json = jsonText ?? JSON.stringify({ records: bodies.map((body) => ({ body })) });
    const res = await this.#json("POST", `/streams/${encodeURIComponent(stream)}/records`, {
      basin, json, agent, timeoutMs, headers: { "s2-format": "raw" },
    });
    return { ack: res.json, sentAt: res.sentAt, doneAt: res.doneAt };
  }

  async tail(basin, stream) {
    return (await this.#json("GET", `/streams/${encodeURIComponent(stream)}/records/tail`, { basin })).json.tail;
  }

  /** One unary JSON read (≤ 1000 records / 1 MiB per call). */
  async read(basin, stream, seqNum, count) {
    const q = `seq_num=${seqNum}&count=${count}`;
    return (await this.#json("GET", `/streams/${encodeURIComponent(stream)}/records?${q}`, {
      basin, headers: { "s2-format": "raw" },
    })).json;
  }

  /** Reads [from, to) with unary reads; returns the records. Bounded by the range size. */
  async readRange(basin, stream, from, to) {
    const out = [];
    let next = from;
    for (let calls = 0; next < to && calls < 10_000; calls++) {
      const batch = await this.read(basin, stream, next, Math.min(1000, to - next));
      if (!batch.records?.length) break;
      out.push(...batch.records);
      next = batch.records[batch.records.length - 1].seq_num + 1;
    }
    return out;
  }
}
