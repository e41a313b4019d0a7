/**
 * A read session at the edge: catch-up reads over RPC until the reader reaches the tail, then, if the read
 * can follow, live batches from a LiveFeed, with heartbeats made here so they never wake the stream's
 * object. Every protocol renders its output (S2 SSE and long-poll, Durable Streams long-poll and SSE). The
 * session budget (count, bytes, until) spans the whole session; `wait` is an idle timeout that only
 * delivered records reset.
 */
import type { Principal } from "../domain/access";
import { canFollow, ReadBudget } from "../domain/read";
import type { ReadOutput, ReadRequest, SequencedRecord } from "../domain/types";
import { streamStub, type Env } from "../env";
import type { ReadOutcome } from "../stream/stream-object";
import { principalLapse } from "./auth/authenticate";
import { LiveFeed } from "./live-feed";
import { observeDelivered } from "./metrics/observe";
import { isolateMetrics } from "./metrics/registry";
import { Rejection, unwrap } from "./rejection";

/** S2 sends a heartbeat after 5–15 s (random) without a batch; clients give up after ~20–25 s (S2-API §10.4). */
const HEARTBEAT_MS_MIN = 5_000;
const HEARTBEAT_MS_MAX = 15_000;
/** Pause before resubscribing after the object reset, so a restarting object is not hammered. */
const RESUBSCRIBE_DELAY_MS = 100;

export interface SessionTarget {
  env: Env;
  basin: string;
  stream: string;
  /** Whose session it is: one whose token expires or is revoked meanwhile ends with `authn`. */
  principal: Principal;
}

export interface SessionOptions {
  /**
   * End with a batch marked `closed` when the stream is closed (Durable Streams); without this a closed
   * stream is simply one that never gets new records, which is all S2 knows of it.
   */
  followClosure?: boolean;
  /** The session ends normally at this time (epoch ms), even mid-wait: a connection with a lifetime. */
  endAtMs?: number;
}

const heartbeatDelay = () => HEARTBEAT_MS_MIN + Math.random() * (HEARTBEAT_MS_MAX - HEARTBEAT_MS_MIN);

/**
 * The session's outputs, counted for `/metrics` (http/metrics/registry.ts): the session is an open read
 * session (a live reader) from its first output until it ends, and every record it delivers is counted.
 */
export async function* readSession(
  target: SessionTarget,
  first: ReadOutcome,
  request: ReadRequest,
  signal: AbortSignal,
  options: SessionOptions = {},
): AsyncGenerator<ReadOutput> {
  isolateMetrics.sessionOpened();
  try {
    for await (const output of sessionOutputs(target, first, request, signal, options)) {
      // Before every batch and heartbeat, so even an idle session ends within a heartbeat interval (plus the
      // revocation list's refresh) of its token lapsing.
      if (target.principal.kind === "token") {
        const lapse = await principalLapse(target.principal, target.env);
        if (lapse) throw new Rejection(lapse);
      }
      if (output.kind === "batch") observeDelivered(output.batch.records);
      yield output;
    }
  } finally {
    isolateMetrics.sessionClosed();
  }
}

async function* sessionOutputs(
  target: SessionTarget,
  first: ReadOutcome,
  request: ReadRequest,
  signal: AbortSignal,
  options: SessionOptions,
): AsyncGenerator<ReadOutput> {
  const budget = new ReadBudget(request.limits);
  const stub = streamStub(target.env, target.basin, target.stream);
  // The same array when everything is admitted, so readers of one live batch share its rendering.
  const admit = (records: SequencedRecord[]) => {
    const admitted = records.filter((record) => budget.admit(record));
    return admitted.length === records.length ? records : admitted;
  };

  const endAtMs = options.endAtMs ?? Infinity;
  let outcome = first;
  let { tail } = first;
  for (;;) {
    // Catch-up: batches as read, without a tail (S2-API §10.3).
    for (;;) {
      const records = admit(outcome.records);
      if (records.length > 0) yield { kind: "batch", batch: { records } };
      tail = outcome.tail;
      if (budget.exhausted || outcome.end === "limit") return;
      if (outcome.end === "caught_up") break;
      outcome = unwrap(await readRetrying(() => stub.readFrom(outcome.nextSeqNum, budget.remaining())));
    }
    if (!canFollow(request) || signal.aborted || Date.now() >= endAtMs) return;

    // Live: one subscription until it ends, then catch up again or resubscribe.
    yield { kind: "heartbeat", tail };
    const idleMs = request.waitSecs === undefined ? Infinity : request.waitSecs * 1000;
    let idleDeadline = Date.now() + idleMs;
    let heartbeatDue = Date.now() + heartbeatDelay();
    let nextSeqNum = outcome.nextSeqNum;
    const feed = await LiveFeed.open(target.env, target.basin, target.stream, nextSeqNum);
    const onAbort = () => feed.close();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        const now = Date.now();
        if (now >= idleDeadline || now >= endAtMs || signal.aborted) return;
        if (now >= heartbeatDue) {
          yield { kind: "heartbeat", tail };
          heartbeatDue = now + heartbeatDelay();
        }
        const event = await feed.next(Math.min(idleDeadline, heartbeatDue, endAtMs));
        if (event.kind === "timeout") continue;
        if (event.kind === "closed") {
          if (event.reason === "gone") unwrap({ ok: false, error: { code: "stream_not_found", message: "stream was deleted" } });
          if (event.reason === "reset") await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS));
          break;
        }
        tail = event.batch.tail;
        const last = event.batch.records[event.batch.records.length - 1];
        if (last) nextSeqNum = last.seqNum + 1;
        const records = admit(event.batch.records);
        const closed = event.batch.closed && options.followClosure === true;
        if (records.length > 0 || closed) {
          yield { kind: "batch", batch: closed ? { records, tail, closed } : { records, tail } };
          idleDeadline = Date.now() + idleMs;
          heartbeatDue = Date.now() + heartbeatDelay();
        }
        if (budget.exhausted || closed) return;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      feed.close();
    }
    outcome = unwrap(await readRetrying(() => stub.readFrom(nextSeqNum, budget.remaining())));
  }
}

/** Attempts of a catch-up read whose object was reset under it, before the session gives up. */
const READ_ATTEMPTS_MAX = 3;

/**
 * A catch-up read over RPC. An object reset mid-call (a deploy, an eviction) fails it with an error the platform
 * marks `retryable`; a read has no side effects, so it is tried again after a pause rather than ending the
 * session with `other`. Anything else, or a reset that outlasts the attempts, ends the session as before.
 */
async function readRetrying<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= READ_ATTEMPTS_MAX || (error as { retryable?: unknown }).retryable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS * attempt));
    }
  }
}
