/**
 * A Durable Streams append (PROTOCOL.md §5.2, §5.2.1, §5.3) as one pure decision over the stream's state,
 * checked in the protocol's precedence: closed, then content type, then the producer claim, then Stream-Seq,
 * then the body. The stream's object commits what this returns in one transaction; nothing here does I/O.
 */
import { planAppends, type PlannedAppend, type StreamState } from "./append";
import type { StreamConfig } from "./config";
import type { StreamError } from "./errors";
import { mediaType, recordBodies, type AppendPayload, type StreamLifecycle } from "./lifecycle";
import { checkProducer, checkStreamSeq, sameClaim, type ProducerClaim, type ProducerState } from "./producer";
import { err, ok, type Result } from "../lib/result";

export interface GuardedAppend {
  /** Null only for a close without a body, whose type is ignored (PROTOCOL.md §5.3). */
  contentType: string | null;
  payload: AppendPayload;
  close: boolean;
  producer: ProducerClaim | null;
  streamSeq: string | null;
}

export type AppendDecision =
  /** Already accepted: answer with the producer's state (or the closing claim), write nothing. */
  | { kind: "duplicate"; producer: ProducerState; closed: boolean }
  /** A plain close of a closed stream: idempotent, and still a write for the sliding TTL. */
  | { kind: "closed_again" }
  /** Commit these batches (possibly none: a close) with this lifecycle and producer state. */
  | { kind: "commit"; batches: PlannedAppend[]; lifecycle: StreamLifecycle; producer: ProducerState | null };

export interface AppendContext {
  lifecycle: StreamLifecycle;
  state: StreamState;
  config: StreamConfig;
  /** The state of the request's producer, if it claims one the stream knows. */
  producer: ProducerState | undefined;
  nowMs: number;
}

export function decideAppend(request: GuardedAppend, context: AppendContext): Result<AppendDecision, StreamError> {
  const { lifecycle, nowMs } = context;
  const { producer } = request;
  const closeOnly = request.close && request.payload.bytes.length === 0;
  if (lifecycle.closed) {
    // The retry of the append that closed the stream is a duplicate, even with another body (§5.2.1).
    if (producer && lifecycle.closedBy && sameClaim(producer, lifecycle.closedBy)) {
      return ok({ kind: "duplicate", producer: { epoch: producer.epoch, lastSeq: producer.seq }, closed: true });
    }
    return closeOnly && !producer ? ok({ kind: "closed_again" }) : err({ code: "stream_closed", tail: context.state.tail });
  }
  if (!closeOnly && request.contentType !== null && mediaType(request.contentType) !== mediaType(lifecycle.contentType)) {
    return err({ code: "content_type_mismatch", expected: lifecycle.contentType });
  }
  let producerState: ProducerState | null = null;
  if (producer) {
    const verdict = checkProducer(context.producer, producer);
    if (!verdict.ok) return verdict;
    if (verdict.value.kind === "duplicate") return ok({ kind: "duplicate", producer: verdict.value.state, closed: false });
    producerState = verdict.value.state;
  }
  const ordered = checkStreamSeq(lifecycle.lastStreamSeq, request.streamSeq);
  if (!ordered.ok) return ordered;
  const bodies = closeOnly ? ok([]) : recordBodies(request.payload, lifecycle.contentType, "reject");
  if (!bodies.ok) return bodies;
  const batches = planAppends(context.state, bodies.value.map((body) => ({ headers: [], body })), context.config, nowMs);
  if (!batches.ok) return batches;
  return ok({
    kind: "commit",
    batches: batches.value,
    lifecycle: {
      ...lifecycle, lastAccessMs: nowMs, closed: request.close, closedBy: request.close ? producer : null,
      lastStreamSeq: request.streamSeq ?? lifecycle.lastStreamSeq,
    },
    producer: producerState,
  });
}
