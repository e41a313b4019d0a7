// A Durable Streams client over node:http, used identically against the reference server and our
// `/v1/stream/{name}` routes: PUT create, POST append (application/octet-stream), catch-up GET following
// Stream-Next-Offset, and validating live readers (live=long-poll, live=sse). Only 127.0.0.1; every request
// has a timeout. Streams are binary, so SSE data is base64 (Stream-SSE-Data-Encoding) on both servers.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { HttpError, request } from "./client.mjs";
import { ReaderLifecycle } from "./reader-group.mjs";
import { openEventStream } from "./sse.mjs";

export const OCTET = "application/octet-stream";

/** Offsets are opaque; both servers' order lexicographically (PROTOCOL.md §8). */
export const compareOffsets = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export class DsClient {
  /** `token` is sent as a bearer token (the reference server ignores it). */
  constructor(baseUrl, { agent, token, timeoutMs = 30_000 } = {}) {
    this.baseUrl = baseUrl;
    this.agent = agent;
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  path(stream) {
    return `/v1/stream/${encodeURIComponent(stream)}`;
  }

  headers(extra = {}) {
    return this.token ? { authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  async #call(method, path, { headers, body, agent = this.agent, timeoutMs = this.timeoutMs, expect }) {
    const res = await request(this.baseUrl, method, path, { headers: this.headers(headers), body, agent, timeoutMs });
    if (!expect.includes(res.status)) {
      throw new HttpError(`${method} ${path}: HTTP ${res.status} ${res.text.slice(0, 300)}`, res.status, res.text);
    }
    return res;
  }

  async create(stream, { contentType = OCTET } = {}) {
    await this.#call("PUT", this.path(stream), { headers: { "content-type": contentType }, expect: [201] });
  }

  /** One POST; resolves { nextOffset, sentAt, doneAt }. */
  async append(stream, body, { agent, timeoutMs } = {}) {
    const res = await this.#call("POST", this.path(stream), { headers: { "content-type": OCTET }, body, agent, timeoutMs, expect: [200, 204] });
    const nextOffset = res.headers["stream-next-offset"];
    if (typeof nextOffset !== "string" || nextOffset === "") throw new Error(`POST ${this.path(stream)}: no Stream-Next-Offset`);
    return { nextOffset, sentAt: res.sentAt, doneAt: res.doneAt };
  }

  async head(stream) {
    const res = await this.#call("HEAD", this.path(stream), { expect: [200] });
    return { nextOffset: res.headers["stream-next-offset"], closed: res.headers["stream-closed"] === "true" };
  }

  /** One catch-up GET from `offset`: { body, nextOffset, upToDate, sentAt, doneAt }. */
  async read(stream, offset, { agent, timeoutMs } = {}) {
    const res = await this.#call("GET", `${this.path(stream)}?offset=${encodeURIComponent(offset)}`, { agent, timeoutMs, expect: [200] });
    if (res.headers["content-encoding"]) throw new Error(`unexpected Content-Encoding ${res.headers["content-encoding"]}`);
    return {
      body: res.body,
      nextOffset: res.headers["stream-next-offset"],
      upToDate: res.headers["stream-up-to-date"] === "true",
      sentAt: res.sentAt,
      doneAt: res.doneAt,
    };
  }

  /**
   * Catch-up from `offset`, following Stream-Next-Offset until up to date or `maxBytes` were read. Each body
   * goes to onChunk(buffer) (nothing is kept), each request's time to onRequest(ms, bytes). Resolves
   * { bytes, requests, nextOffset, upToDate }.
   */
  async readFollow(stream, offset, { maxBytes = Infinity, onChunk, onRequest, agent, maxRequests = 100_000 } = {}) {
    let bytes = 0;
    let requests = 0;
    let at = offset;
    for (;;) {
      if (requests >= maxRequests) throw new Error(`catch-up from ${offset} needed more than ${maxRequests} requests`);
      const r = await this.read(stream, at, { agent });
      requests += 1;
      onRequest?.(r.doneAt - r.sentAt, r.body.length);
      if (r.body.length > 0) onChunk?.(r.body);
      bytes += r.body.length;
      if (typeof r.nextOffset !== "string") throw new Error("catch-up response without Stream-Next-Offset");
      if (r.body.length > 0 && compareOffsets(r.nextOffset, at) <= 0) throw new Error(`Stream-Next-Offset ${r.nextOffset} did not advance past ${at}`);
      at = r.nextOffset;
      if (r.upToDate || bytes >= maxBytes) return { bytes, requests, nextOffset: at, upToDate: r.upToDate };
      if (r.body.length === 0) throw new Error(`empty catch-up response at ${at} that is not up to date`);
    }
  }
}

/**
 * Splits a byte stream into fixed-size records and checks each against what was sent:
 * expectRecord(k) → the body (ASCII string) of the k-th record of the stream. Records land in recvAt[k].
 */
export class RecordTracker {
  constructor({ expected, recordBytes, expectRecord }) {
    this.expected = expected;
    this.recordBytes = recordBytes;
    this.expectRecord = expectRecord;
    this.count = 0;
    this.bytes = 0;
    this.recvAt = new Float64Array(Math.max(0, expected));
    this.partial = [];
    this.partialBytes = 0;
  }

  /** Feeds bytes received at `at`; returns a problem string or undefined. */
  push(buf, at) {
    this.bytes += buf.length;
    let offset = 0;
    while (offset < buf.length) {
      const need = this.recordBytes - this.partialBytes;
      const take = Math.min(need, buf.length - offset);
      this.partial.push(buf.subarray(offset, offset + take));
      this.partialBytes += take;
      offset += take;
      if (this.partialBytes === this.recordBytes) {
        const record = this.partial.length === 1 ? this.partial[0] : Buffer.concat(this.partial);
        this.partial = [];
        this.partialBytes = 0;
        const k = this.count;
        if (k >= this.expected) return `extra record #${k} beyond the ${this.expected} expected`;
        const want = this.expectRecord(k);
        if (want === undefined || record.toString("latin1") !== want) {
          return `record #${k} differs from what was sent (got ${JSON.stringify(record.toString("latin1").slice(0, 32))}…, want ${JSON.stringify(String(want).slice(0, 32))}…)`;
        }
        this.recvAt[k] = at;
        this.count += 1;
      }
    }
    return undefined;
  }

  /** One whole record (S2 readers): the next record of the stream. */
  pushRecord(body, at) {
    const k = this.count;
    if (k >= this.expected) return `extra record #${k} beyond the ${this.expected} expected`;
    const want = this.expectRecord(k);
    if (want === undefined || body !== want) {
      return `record #${k} differs from what was sent (got ${JSON.stringify(String(body).slice(0, 32))}…, want ${JSON.stringify(String(want).slice(0, 32))}…)`;
    }
    this.recvAt[k] = at;
    this.count += 1;
    this.bytes += body.length;
    return undefined;
  }

  get complete() {
    return this.count === this.expected && this.partialBytes === 0;
  }
}

/** A reader that checks each record with a RecordTracker, and the GET of the long-poll readers. */
export class LiveReader extends ReaderLifecycle {
  constructor({ client, stream, agent, tracker, fromOffset }) {
    super();
    this.client = client;
    this.stream = stream;
    this.agent = agent;
    this.tracker = tracker;
    this.offset = fromOffset;
    this.requests = 0;
    this.reconnects = 0;
  }

  get count() {
    return this.tracker.count;
  }

  get recvAt() {
    return this.tracker.recvAt;
  }

  _deliver(buf, at) {
    if (this.done) return;
    const problem = this.tracker.push(buf, at);
    if (problem) return this.fail(problem);
    this._maybeComplete(at);
  }

  _deliverRecords(bodies, at) {
    if (this.done) return;
    for (const body of bodies) {
      const problem = this.tracker.pushRecord(body, at);
      if (problem) return this.fail(problem);
    }
    this._maybeComplete(at);
  }

  _maybeComplete(at) {
    if (this.tracker.complete) this._complete(at);
  }

  /**
   * One GET of a long-poll loop, whose body is collected whole. Attached = the first request was written to
   * its socket: the server cannot say when it is waiting.
   */
  _get(path, headers) {
    const url = new URL(path, this.client.baseUrl);
    if (url.hostname !== "127.0.0.1") throw new Error("bench only talks to 127.0.0.1");
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent: this.agent, headers }, (res) => {
        this.res = res;
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), doneAt: performance.now() }));
        res.on("error", reject);
      });
      this.req = req;
      req.on("error", reject);
      req.on("finish", () => this._markAttached());
      req.end();
    });
  }

}

/**
 * `GET …?offset=<o>&live=sse` that checks every record: data events (base64) are committed when their control
 * event arrives (its streamNextOffset must advance past a data event and never go back); a connection the
 * server ends (ours after 55 s) is resumed from the last control offset. Attached = first control event.
 */
export class DsSseReader extends LiveReader {
  start() {
    if (this.status === "new") this.status = "connecting";
    this.requests += 1;
    let pending = [];
    let base64 = false;
    openEventStream(this, new URL(`${this.client.path(this.stream)}?offset=${encodeURIComponent(this.offset)}&live=sse`, this.client.baseUrl), {
      agent: this.agent,
      headers: this.client.headers(),
      onOpen: (res) => {
        base64 = res.headers["stream-sse-data-encoding"] === "base64";
        if (this.status === "connecting") this.status = "connected";
      },
      onEvent: ({ event, data }) => {
        if (this.done) return;
        const at = this.lastRecvAt;
        if (event === "data") {
          pending.push(base64 ? Buffer.from(data.replace(/[\r\n]/g, ""), "base64") : Buffer.from(data, "utf8"));
          return;
        }
        if (event !== "control") return; // other event types are ignored by clients (PROTOCOL.md §5.8)
        let control;
        try { control = JSON.parse(data); } catch { return this.fail(`control event is not JSON: ${data.slice(0, 100)}`); }
        const next = control.streamNextOffset;
        if (typeof next !== "string") return this.fail(`control event without streamNextOffset: ${data.slice(0, 100)}`);
        const cmp = compareOffsets(next, this.offset);
        if (cmp < 0) return this.fail(`control offset went back from ${this.offset} to ${next}`);
        if (pending.length > 0 && cmp === 0) return this.fail(`data event followed by a control that did not advance (${next})`);
        this.offset = next;
        const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        pending = [];
        this._markAttached();
        if (bytes.length > 0) this._deliver(bytes, at);
        if (control.streamClosed && !this.done) this.fail(`stream closed after ${this.count} records`);
      },
      onEnded: (what) => this.#ended(what),
    });
    return this;
  }

  #ended(what) {
    if (this.done || this.closing) return;
    // The server ends SSE connections periodically (ours: 55 s): resume from the last control offset.
    if (this.status === "attached" && this.reconnects < 5 && what === "connection ended by the server") {
      this.reconnects += 1;
      this.start();
      return;
    }
    this.fail(`${what} after ${this.count} records (offset ${this.offset})`);
  }

  _disconnect() {
    this.closing = true;
    super._disconnect();
  }
}

/**
 * `GET …?offset=<o>&live=long-poll&cursor=<c>` in a loop: a 200 delivers its body, a 204 (timeout) just goes
 * on; the next request starts at Stream-Next-Offset with the returned Stream-Cursor.
 */
export class DsLongPollReader extends LiveReader {
  start() {
    this.status = "connecting";
    void this.#loop();
    return this;
  }

  async #loop() {
    let cursor;
    while (!this.done) {
      const q = `offset=${encodeURIComponent(this.offset)}&live=long-poll${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      let res;
      try {
        res = await this._get(`${this.client.path(this.stream)}?${q}`, this.client.headers());
      } catch (err) {
        if (!this.done) this.fail(`request error: ${err.message} after ${this.count} records`);
        return;
      }
      if (this.done) return;
      this.requests += 1;
      if (res.status !== 200 && res.status !== 204) return this.fail(`HTTP ${res.status} ${res.body.toString("utf8").slice(0, 200)}`);
      const next = res.headers["stream-next-offset"];
      if (typeof next !== "string") return this.fail(`long-poll ${res.status} without Stream-Next-Offset`);
      const cmp = compareOffsets(next, this.offset);
      if (cmp < 0 || (res.body.length > 0 && cmp === 0)) return this.fail(`Stream-Next-Offset ${next} after ${this.offset} with ${res.body.length} bytes`);
      cursor = res.headers["stream-cursor"] ?? cursor;
      this.offset = next;
      if (res.body.length > 0) this._deliver(res.body, res.doneAt);
    }
  }
}
