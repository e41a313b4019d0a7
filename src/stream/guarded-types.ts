/**
 * The RPC vocabulary of a stream's Durable Streams rules (guarded-stream.ts): what the edge sends and gets
 * back, and what the rules need of the StreamObject they live in. Plain data, so it crosses RPC intact.
 */
import type { AppendPayload, CreateSpec } from "../domain/lifecycle";
import type { ProducerState } from "../domain/producer";
import type { StreamError } from "../domain/errors";
import type { ReadLimits, StreamPosition } from "../domain/types";
import type { Result } from "../lib/result";
import type { Env } from "../env";
import type { StreamMeta, StreamStore } from "../storage/stream-store";
import type { Followers } from "./followers";
import type { ReadOutcome, StreamInit } from "./stream-object";

export type { GuardedAppend } from "../domain/guarded-append";

/** What the GuardedStream needs of the object it lives in. */
export interface StreamHost {
  readonly ctx: DurableObjectState;
  readonly env: Env;
  readonly store: StreamStore;
  readonly followers: Followers;
  meta(): StreamMeta | undefined;
  setMeta(meta: StreamMeta): void;
  /** One read batch from `seqNum` on (the engine's own read, from sealed segments and the tail). */
  readFrom(seqNum: number, limits: ReadLimits): Promise<Result<ReadOutcome, StreamError>>;
  /** The append batch holding `seqNum`, sealed or not, as [start, end); undefined if none. */
  batchAt(seqNum: number): { start: number; end: number } | undefined;
  /** Room for more tail rows: refused, retryably, while sealing is behind (the tail bound). */
  tailRoom(): Result<void, StreamError>;
  /** Asks for the object's alarm no later than `atMs` (alarm-clock.ts). */
  armAlarm(atMs: number): Promise<void>;
  /** Removes every trace of the stream (StreamObject.destroy). */
  destroy(): Promise<void>;
}

export interface GuardedCreate {
  init: StreamInit;
  spec: CreateSpec;
  payload: AppendPayload;
}

export interface GuardedCreated {
  created: boolean;
  tail: StreamPosition;
  contentType: string;
  closed: boolean;
}

export interface GuardedAppendAck {
  tail: StreamPosition;
  closed: boolean;
  /** The producer state to echo: the claim just accepted, or for a duplicate the highest accepted. */
  producer: ProducerState | null;
  /** Nothing was written: a producer retry of something already accepted. */
  duplicate: boolean;
}

export interface GuardedReadRequest {
  /** Null: the tail (`offset=now`). Beyond the tail reads as the tail. */
  fromSeqNum: number | null;
  /** Whether this read moves a sliding TTL (every read that reaches the stream does; HEAD does not). */
  touch: boolean;
}

export interface StreamDescription {
  tail: StreamPosition;
  closed: boolean;
  contentType: string;
  ttlSecs: number | null;
  expiresAtText: string | null;
  incarnation: string;
  /** When the stream expires if nothing touches it; null for never. */
  expiresAtMs: number | null;
}

export interface GuardedRead extends StreamDescription {
  outcome: ReadOutcome;
  fromSeqNum: number;
}
