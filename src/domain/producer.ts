/**
 * Durable Streams writer state, as pure transitions (PROTOCOL.md §5.2, §5.2.1): idempotent producers
 * (id, epoch, seq) and the per-stream `Stream-Seq` token. The stream's object runs these inside the
 * transaction that commits the append, so a check and the state it leaves are never interleaved.
 *
 * This is the one domain module that speaks Durable Streams' words (producer, epoch, Stream-Seq): its
 * `seq` is a producer's batch counter, never an engine seq num.
 */
import { err, ok, type Result } from "../lib/result";
import { streamError, type StreamError } from "./errors";

/** What an append claims about its producer. All three headers or none (protocol/ds/requests.ts). */
export interface ProducerClaim {
  id: string;
  epoch: number;
  seq: number;
}

/** What the stream remembers per producer id: its current epoch and the last batch it accepted in it. */
export interface ProducerState {
  epoch: number;
  lastSeq: number;
}

/** An accepted claim moves the producer to `state`; a duplicate was already accepted and writes nothing. */
export type ProducerVerdict =
  | { kind: "accept"; state: ProducerState }
  | { kind: "duplicate"; state: ProducerState };

/** The validation table of PROTOCOL.md §5.2.1; a new epoch must start at seq 0 (§5.2.1 "epoch validation"). */
export function checkProducer(current: ProducerState | undefined, claim: ProducerClaim): Result<ProducerVerdict, StreamError> {
  if (current === undefined || claim.epoch > current.epoch) {
    if (claim.seq === 0) return ok({ kind: "accept", state: { epoch: claim.epoch, lastSeq: 0 } });
    // An unknown producer that starts past 0 lost its first batches: tell it where to resume (the reference
    // server answers 409 with Producer-Expected-Seq 0). A known producer bumping its epoch must restart at 0.
    return current === undefined
      ? err({ code: "producer_seq_gap", expectedSeq: 0, receivedSeq: claim.seq })
      : err(streamError("bad_header", "a new Producer-Epoch must start at Producer-Seq 0"));
  }
  if (claim.epoch < current.epoch) return err({ code: "producer_epoch_stale", currentEpoch: current.epoch });
  if (claim.seq <= current.lastSeq) return ok({ kind: "duplicate", state: current });
  if (claim.seq > current.lastSeq + 1) {
    return err({ code: "producer_seq_gap", expectedSeq: current.lastSeq + 1, receivedSeq: claim.seq });
  }
  return ok({ kind: "accept", state: { epoch: claim.epoch, lastSeq: claim.seq } });
}

export const sameClaim = (a: ProducerClaim, b: ProducerClaim): boolean =>
  a.id === b.id && a.epoch === b.epoch && a.seq === b.seq;

/**
 * `Stream-Seq` must sort strictly after the last accepted value, byte-wise (PROTOCOL.md §5.2): "2" then "10"
 * is a regression, "09" then "10" is not. Code-point order is UTF-8 byte order; JS `<` compares UTF-16 units,
 * which differs for characters beyond the BMP.
 */
export function checkStreamSeq(last: string | null, next: string | null): Result<void, StreamError> {
  if (next === null || last === null) return ok(undefined);
  return compareCodePoints(next, last) > 0 ? ok(undefined) : err({ code: "stream_seq_regression", lastSeq: last });
}

export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}
