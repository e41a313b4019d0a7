/**
 * Live followers of one stream: Worker relays connected over hibernatable WebSockets (ctx.acceptWebSocket),
 * so a stream with thousands of waiting readers sleeps between appends and is billed only for the appends.
 * Pushes happen in the same turn as the commit, and the output gate holds them until the commit is durable
 * (PLATFORM.md §1), so followers only ever see durable records.
 */
import { encodeLiveBatch, LIVE_CLOSE_GONE } from "../protocol/live";
import type { SequencedRecord, StreamPosition } from "../domain/types";

const FOLLOWER_TAG = "follower";

/** A subscriber further behind than this catches up with reads first; the socket is for the live edge. */
export const FOLLOW_GAP_RECORDS_MAX = 4000;

/** Told of every batch sent to followers and to how many of them (usage accounting). */
export type DeliveryHook = (records: readonly SequencedRecord[], followers: number) => void;

export class Followers {
  constructor(private readonly ctx: DurableObjectState, private readonly onDeliver: DeliveryHook = () => undefined) {}

  /** Relays subscribed now. */
  count(): number {
    return this.ctx.getWebSockets(FOLLOWER_TAG).length;
  }

  /**
   * Accepts a relay's socket and sends it what it missed since `catchUp` was read, in one turn. A closed
   * stream says so right after, so a relay that subscribes after the close still learns of it.
   */
  accept(catchUp: readonly (readonly SequencedRecord[])[], tail: StreamPosition, closed = false): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [FOLLOWER_TAG]);
    for (const records of catchUp) {
      server.send(encodeLiveBatch(records, tail));
      this.onDeliver(records, 1);
    }
    if (closed) server.send(encodeLiveBatch([], tail, true));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** `closed`: the stream takes nothing after these records (a close, with or without a final append). */
  push(records: readonly SequencedRecord[], tail: StreamPosition, closed = false): void {
    const sockets = this.ctx.getWebSockets(FOLLOWER_TAG);
    if (sockets.length === 0) return;
    const message = encodeLiveBatch(records, tail, closed);
    this.onDeliver(records, sockets.length);
    for (const socket of sockets) {
      try {
        socket.send(message);
      } catch {
        // A socket closing under us; its relay reconnects from its own position.
      }
    }
  }

  /** The stream is gone: followers end their sessions instead of reconnecting. */
  closeAll(): void {
    for (const socket of this.ctx.getWebSockets(FOLLOWER_TAG)) socket.close(LIVE_CLOSE_GONE, "stream deleted");
  }
}
