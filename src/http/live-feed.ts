/**
 * The Worker's end of a live subscription to a StreamObject (protocol/live.ts): one WebSocket per reader,
 * accepted by the object with the hibernation API, so the object sleeps while readers wait. The feed
 * tracks the next seq num its reader needs and drops anything before it, which makes a resubscribe after a
 * reset lossless and duplicate-free.
 */
import type { ReadBatch } from "../domain/types";
import type { Env } from "../env";
import { decodeLiveBatch, LIVE_CLOSE_BEHIND, LIVE_CLOSE_GONE, LIVE_PATH, liveHeaderKey } from "../protocol/live";

export type FeedEvent =
  | { kind: "batch"; batch: Required<ReadBatch> }
  | { kind: "timeout" }
  /** behind: catch up with reads and subscribe again; gone: the stream was deleted; reset: resubscribe. */
  | { kind: "closed"; reason: "behind" | "gone" | "reset" };

/**
 * Every follower of a stream in this isolate receives the same pushes, each on its own socket. Decoding is
 * shared: a message is identified by its stream and its header (kind, tail, first seq num) and size, which
 * fix its content because records never change. Bounded, oldest first out.
 */
const DECODED_MAX = 64;
const decoded = new Map<string, ReturnType<typeof decodeLiveBatch>>();

function decodeShared(streamKey: string, bytes: Uint8Array): ReturnType<typeof decodeLiveBatch> {
  const key = `${streamKey}|${bytes.length}|${liveHeaderKey(bytes)}`;
  let batch = decoded.get(key);
  if (!batch) {
    batch = decodeLiveBatch(bytes);
    decoded.set(key, batch);
    if (decoded.size > DECODED_MAX) decoded.delete(decoded.keys().next().value!);
  }
  return batch;
}

/**
 * The object pushes every append to every follower, whether or not its reader keeps up; a reader slower than
 * the stream (its client reads slowly, its session waits on backpressure) would make this queue grow without
 * end. Past this many queued bytes (one full read batch) the feed gives up: the session catches up with reads
 * from where its reader is (as after any `behind`) and subscribes again, so a slow reader costs storage reads,
 * never unbounded memory. Per reader: a Worker isolate (128 MB) may relay for many readers at once.
 */
export const FEED_QUEUED_BYTES_MAX = 1024 * 1024;

export class LiveFeed {
  readonly #queue: FeedEvent[] = [];
  #queuedBytes = 0;
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #closed = false;

  private constructor(private readonly socket: WebSocket | undefined, private nextSeqNum: number, private readonly streamKey: string) {
    if (!socket) {
      this.#closed = true;
      return;
    }
    // Newer compatibility dates default binaryType to "blob" (the WHATWG default); our messages are decoded
    // synchronously, from bytes.
    socket.binaryType = "arraybuffer";
    socket.accept();
    socket.addEventListener("message", (event) => this.#onMessage(event.data));
    socket.addEventListener("close", (event) => this.#onClose(event.code));
    socket.addEventListener("error", () => this.#onClose(0));
  }

  /** Subscribes from `fromSeqNum`; the object first sends whatever was appended since then. */
  static async open(env: Env, basin: string, stream: string, fromSeqNum: number): Promise<LiveFeed> {
    const stub = env.STREAMS.get(env.STREAMS.idFromName(`${basin}/${stream}`));
    const response = await stub.fetch(`https://stream${LIVE_PATH}?from=${fromSeqNum}`, { headers: { upgrade: "websocket" } });
    const feed = new LiveFeed(response.webSocket ?? undefined, fromSeqNum, `${basin}/${stream}`);
    if (!response.webSocket) feed.#queue.push({ kind: "closed", reason: response.status === 404 ? "gone" : "behind" });
    return feed;
  }

  /**
   * The next event, or `timeout` once `deadlineMs` (epoch ms) may have passed: a `timeout` can come early,
   * and the caller then simply looks at the clock and waits again.
   */
  async next(deadlineMs: number): Promise<FeedEvent> {
    if (this.#queue.length === 0) {
      if (this.#timerAt > deadlineMs) this.#armTimer(deadlineMs);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
    const event = this.#queue.shift();
    if (event?.kind === "batch") this.#queuedBytes -= batchBytes(event.batch);
    return event ?? { kind: "timeout" };
  }

  /**
   * One timer per feed, re-armed only when it has fired or must fire sooner. Every delivery pushes the
   * session's deadlines (heartbeat, idle) back; re-arming on each would cost a timer per reader per delivery,
   * a tenth of the Worker's CPU with a thousand followers. A timer that fires before a deadline that moved
   * later yields an early `timeout`.
   */
  #armTimer(atMs: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = atMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#wake?.();
    }, Math.max(0, atMs - Date.now()));
  }

  /** Bytes of record bodies and headers waiting for the reader (for tests of the bound). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Ends the subscription; a pending `next()` returns at once (with `timeout`) instead of waiting it out. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timerAt = Infinity;
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.socket?.close(1000, "reader done");
    } catch {
      // Already closing.
    }
    this.#wake?.();
  }

  #push(event: FeedEvent): void {
    this.#queue.push(event);
    this.#wake?.();
  }

  #onMessage(data: unknown): void {
    const batch = decodeShared(this.streamKey, new Uint8Array(data as ArrayBuffer));
    const unseen = batch.records.filter((record) => record.seqNum >= this.nextSeqNum);
    const records = unseen.length === batch.records.length ? batch.records : unseen;
    if (batch.records.length > 0 && batch.records[0]!.seqNum > this.nextSeqNum) {
      // A hole would mean a lost record: resubscribe from what we have instead.
      this.close();
      this.#push({ kind: "closed", reason: "reset" });
      return;
    }
    // A close is news even with nothing new in it; an empty batch otherwise is a resend we already have.
    if (records.length === 0 && !batch.closed) return;
    if (records.length > 0) this.nextSeqNum = records[records.length - 1]!.seqNum + 1;
    const event: FeedEvent = { kind: "batch", batch: { records, tail: batch.tail, closed: batch.closed } };
    this.#queuedBytes += batchBytes(event.batch);
    if (this.#queuedBytes > FEED_QUEUED_BYTES_MAX) {
      // The reader is too slow for the live edge: drop what waits, and let it catch up with reads instead.
      this.#queue.length = 0;
      this.#queuedBytes = 0;
      this.close();
      this.#push({ kind: "closed", reason: "behind" });
      return;
    }
    this.#push(event);
  }

  #onClose(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    const reason = code === LIVE_CLOSE_GONE ? "gone" : code === LIVE_CLOSE_BEHIND ? "behind" : "reset";
    this.#push({ kind: "closed", reason });
  }
}

function batchBytes(batch: ReadBatch): number {
  let bytes = 0;
  for (const record of batch.records) {
    bytes += record.body.length;
    for (const [name, value] of record.headers) bytes += name.length + value.length;
  }
  return bytes;
}
