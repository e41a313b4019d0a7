// Incremental text/event-stream parsing, the connection of every SSE reader (S2 and Durable Streams), and a
// validating S2 SSE follower (S2-API §10.4).
import http from "node:http";
import { performance } from "node:perf_hooks";
import { ReaderLifecycle } from "./reader-group.mjs";

/**
 * WHATWG-style SSE parser fed with decoded text chunks. Calls onEvent({ event, data, id }) per dispatched event;
 * `event` is "" when the block had no `event:` line (S2 uses that only for `data: [DONE]`).
 */
export class SseParser {
  #buffer = "";
  #event = "";
  #data = [];
  #id = undefined;
  #sawCr = false;

  constructor(onEvent) {
    this.onEvent = onEvent;
  }

  feed(text) {
    let buf = this.#buffer + text;
    if (this.#sawCr && buf.startsWith("\n")) buf = buf.slice(1); // the \n of a \r\n split across chunks
    this.#sawCr = false;
    let start = 0;
    for (;;) {
      let nl = -1;
      for (let i = start; i < buf.length; i++) {
        const c = buf.charCodeAt(i);
        if (c === 10 || c === 13) { nl = i; break; }
      }
      if (nl === -1) break;
      const line = buf.slice(start, nl);
      if (buf.charCodeAt(nl) === 13) {
        if (nl + 1 < buf.length) {
          start = buf.charCodeAt(nl + 1) === 10 ? nl + 2 : nl + 1;
        } else {
          this.#sawCr = true;
          start = nl + 1;
        }
      } else {
        start = nl + 1;
      }
      this.#line(line);
    }
    this.#buffer = buf.slice(start);
  }

  #line(line) {
    if (line === "") {
      if (this.#data.length > 0 || this.#event !== "") {
        this.onEvent({ event: this.#event, data: this.#data.join("\n"), id: this.#id });
      }
      this.#event = "";
      this.#data = [];
      this.#id = undefined;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    else if (field === "id") this.#id = value;
    // `retry` and unknown fields are ignored.
  }
}

/**
 * `GET url` as a text/event-stream for a validating `reader` (its `req`, `res`, `lastRecvAt`, `done` and
 * `fail`): any status but 200 or another content type fails the reader; otherwise onOpen(res) runs, then each
 * event goes to onEvent while `lastRecvAt` holds the arrival time of the chunk that completed it. However the
 * connection goes away, onEnded says how.
 */
export function openEventStream(reader, url, { agent, headers, onOpen, onEvent, onEnded }) {
  if (url.hostname !== "127.0.0.1") throw new Error("bench only talks to 127.0.0.1");
  reader.req = http.get(url, { agent, headers: { accept: "text/event-stream", ...headers } }, (res) => {
    reader.res = res;
    if (res.statusCode !== 200) {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { text += c; });
      res.on("end", () => reader.fail(`HTTP ${res.statusCode} ${text.slice(0, 200)}`));
      res.on("error", () => reader.fail(`HTTP ${res.statusCode}`));
      return;
    }
    if (!String(res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
      reader.fail(`content-type ${res.headers["content-type"]}`);
      return;
    }
    onOpen(res);
    res.setEncoding("utf8");
    const parser = new SseParser(onEvent);
    res.on("data", (chunk) => {
      reader.lastRecvAt = performance.now();
      if (reader.done) return;
      try {
        parser.feed(chunk);
      } catch (err) {
        reader.fail(`parse error: ${err.message}`);
      }
    });
    res.on("end", () => onEnded("connection ended by the server"));
    res.on("close", () => onEnded("connection closed"));
    res.on("error", (err) => onEnded(`response error: ${err.message}`));
  });
  reader.req.on("error", (err) => onEnded(`request error: ${err.message}`));
}

/** Metered bytes of a record as read in s2-format raw (S2-API §8.3). */
export function meteredRaw(record) {
  let n = 8 + Buffer.byteLength(record.body ?? "");
  for (const [name, value] of record.headers ?? []) n += 2 + Buffer.byteLength(name) + Buffer.byteLength(value);
  return n;
}

/** An agent for long-lived SSE connections: one socket each, no pooling limit below `sockets`. */
export function sseAgent(sockets) {
  return new http.Agent({ keepAlive: false, maxSockets: sockets, noDelay: true });
}

/**
 * One `GET /v1/streams/{stream}/records?seq_num=0` SSE session that checks everything it gets:
 * records arrive exactly once, in seq order from `fromSeq`, `id:` totals match what was delivered, live
 * batches carry a tail past their last record, and no `error` event or early `[DONE]` occurs.
 * expected > 0: complete after that many records (then disconnects). expected === 0: an idle follower
 * that must receive no batch at all.
 */
export class FollowReader extends ReaderLifecycle {
  constructor({ baseUrl, basin, stream, agent, expected, fromSeq = 0, keepBodies = true, token, tracker }) {
    super();
    this.url = new URL(`/v1/streams/${encodeURIComponent(stream)}/records?seq_num=${fromSeq}`, baseUrl);
    this.basin = basin;
    this.token = token;
    this.agent = agent;
    this.expected = expected;
    this.nextSeq = fromSeq;
    this.fromSeq = fromSeq;
    // A RecordTracker (ds-client.mjs): each record is checked against what was sent as it arrives, and no
    // body is kept.
    this.tracker = tracker;
    this.keepBodies = keepBodies && !tracker;
    this.pings = 0;
    this.pingsSinceBatch = 0;
    this.lastBatchAt = undefined;
    this.lastEventAt = undefined;
    this.batches = 0;
    this.count = 0;
    this.bytes = 0;
    this.recvAt = expected > 0 ? new Float64Array(expected) : undefined;
    this.bodies = expected > 0 && this.keepBodies ? new Array(expected) : undefined;
  }

  start() {
    this.status = "connecting";
    openEventStream(this, this.url, {
      agent: this.agent,
      headers: { "s2-basin": this.basin, "s2-format": "raw", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      onOpen: () => { this.status = "connected"; },
      onEvent: (event) => this.#onEvent(event),
      onEnded: (what) => this.#ended(what),
    });
    return this;
  }

  #ended(what) {
    if (this.done) return;
    this.fail(`${what} after ${this.count} records (next seq ${this.nextSeq})`);
  }

  #onEvent({ event, data, id }) {
    if (this.done) return;
    this.lastEventAt = this.lastRecvAt;
    if (event === "ping") {
      this.pings += 1;
      this.pingsSinceBatch += 1;
      this._markAttached();
      return;
    }
    if (event === "batch") return this.#onBatch(data, id);
    if (event === "error") return this.fail(`error event: ${data.slice(0, 300)}`);
    if (event === "" && data === "[DONE]") return this.fail(`[DONE] after ${this.count} records, expected ${this.expected}`);
    this.fail(`unexpected SSE event ${JSON.stringify(event)} data ${data.slice(0, 100)}`);
  }

  #onBatch(data, id) {
    const at = this.lastRecvAt;
    this.batches += 1;
    this.lastBatchAt = at;
    this.pingsSinceBatch = 0;
    let batch;
    try {
      batch = JSON.parse(data);
    } catch {
      return this.fail(`batch data is not JSON: ${data.slice(0, 100)}`);
    }
    const records = batch.records;
    if (!Array.isArray(records) || records.length === 0) return this.fail(`batch without records: ${data.slice(0, 100)}`);
    if (this.expected === 0) return this.fail(`idle follower received a batch (seq ${records[0].seq_num}..)`);
    for (const r of records) {
      if (r.seq_num !== this.nextSeq) {
        return this.fail(r.seq_num < this.nextSeq
          ? `duplicate/out-of-order: got seq ${r.seq_num}, expected ${this.nextSeq}`
          : `gap: got seq ${r.seq_num}, expected ${this.nextSeq}`);
      }
      const i = r.seq_num - this.fromSeq;
      if (i >= this.expected) return this.fail(`unexpected extra record seq ${r.seq_num} (expected only ${this.expected})`);
      if (this.tracker) {
        const problem = this.tracker.pushRecord(r.body ?? "", at);
        if (problem) return this.fail(problem);
      }
      this.recvAt[i] = at;
      if (this.bodies) this.bodies[i] = r.body ?? "";
      this.nextSeq += 1;
      this.count += 1;
      this.bytes += meteredRaw(r);
    }
    const last = records[records.length - 1].seq_num;
    if (id !== undefined) {
      const [s, c, b] = id.split(",").map(Number);
      if (s !== last || c !== this.count || b !== this.bytes) {
        return this.fail(`id "${id}" does not match delivered last=${last},count=${this.count},bytes=${this.bytes}`);
      }
    } else {
      return this.fail("batch event without id");
    }
    if (batch.tail !== undefined && !(batch.tail.seq_num > last)) {
      return this.fail(`batch tail ${JSON.stringify(batch.tail)} not past its last record ${last}`);
    }
    if (this.count === this.expected) this._complete(at);
  }
}
