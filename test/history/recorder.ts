/**
 * Builds a History (model.ts) while clients run: every call is registered when it is invoked, as unknown,
 * and completed with its outcome when it returns, so a call still in flight when the run ends (or whose
 * client died) stays "unknown" for the checker, as it must. One monotonic clock for everything.
 */
import {
  fnv1a, recordDigest, taggedBody, type AppendAttempt, type AppendOutcome, type Delivery, type Header, type History, type ReaderHistory,
  type RecordData,
} from "./model";

export interface AppendCall {
  key: string;
  client: string;
  records: readonly RecordData[];
  matchSeqNum?: number;
  fencingToken?: string;
}

export class HistoryRecorder {
  readonly history: History = { initialSeqNum: 0, appends: [], tails: [], readers: [] };
  #ids = 0;

  /**
   * `compact`: readers keep digests instead of bytes (model.ts), so that a long run with many readers
   * fits in memory; the checker still compares every delivered record with the stored one.
   */
  constructor(readonly options: { compact?: boolean } = {}) {}

  now(): number {
    return performance.now();
  }

  id(prefix: string): string {
    return `${prefix}${++this.#ids}`;
  }

  /** Registers an append as invoked now; the returned function records how it ended. */
  beginAppend(call: AppendCall): (outcome: AppendOutcome) => AppendAttempt {
    const attempt: AppendAttempt = {
      kind: "append", id: this.id("a"), ...call, invokedAtMs: this.now(), completedAtMs: Infinity,
      outcome: { type: "unknown", reason: "still in flight when the history ended" },
    };
    this.history.appends.push(attempt);
    return (outcome) => {
      attempt.outcome = outcome;
      attempt.completedAtMs = outcome.type === "unknown" ? Infinity : this.now();
      return attempt;
    };
  }

  /** A call invoked at `invokedAtMs` that just reported `tail`. */
  tail(client: string, invokedAtMs: number, tail: number): void {
    this.history.tails.push({ kind: "tail", id: this.id("t"), client, invokedAtMs, completedAtMs: this.now(), tail });
  }

  reader(client: string, protocol: string, start: number): ReaderLog {
    const reader: ReaderHistory = { kind: "reader", id: this.id("r"), client, protocol, start, deliveries: [], position: start };
    this.history.readers.push(reader);
    return new ReaderLog(reader, this);
  }
}

export interface DeliveredRecord {
  seqNum: number;
  timestamp?: number;
  headers?: readonly Header[];
  body: Uint8Array;
}

/** What one reader was handed, in order, stamped with the time it arrived. */
export class ReaderLog {
  constructor(readonly reader: ReaderHistory, private readonly recorder: HistoryRecorder) {}

  /** Where the reader continues: one past the last seq num it got. */
  get position(): number {
    return this.reader.position ?? this.reader.start;
  }

  /** One read batch; in compact mode a run of consecutive records becomes one digests delivery. */
  records(records: readonly DeliveredRecord[]): void {
    if (records.length === 0) return;
    const consecutive = records.every((r, i) => r.seqNum === records[0]!.seqNum + i);
    if (this.recorder.options.compact && consecutive) {
      const digests = Uint32Array.from(records, (r) => recordDigest({ headers: r.headers ?? [], body: r.body }));
      this.#push({ type: "digests", atMs: this.recorder.now(), from: records[0]!.seqNum, digests }, records[0]!.seqNum + records.length);
      return;
    }
    for (const r of records) this.record(r.seqNum, r.body, r.timestamp, r.headers);
  }

  record(seqNum: number, body: Uint8Array, timestamp?: number, headers?: readonly Header[]): void {
    this.#push({ type: "record", atMs: this.recorder.now(), seqNum, body, ...(timestamp !== undefined ? { timestamp } : {}), ...(headers ? { headers } : {}) }, seqNum + 1);
  }

  bytes(from: number, next: number, bytes: Uint8Array): void {
    const atMs = this.recorder.now();
    this.#push(this.recorder.options.compact
      ? { type: "bytes-digest", atMs, from, next, length: bytes.length, digest: fnv1a(bytes) }
      : { type: "bytes", atMs, from, next, bytes }, next);
  }

  tail(tail: number): void {
    this.#push({ type: "tail", atMs: this.recorder.now(), tail }, this.position);
  }

  #push(d: Delivery, next: number): void {
    this.reader.deliveries.push(d);
    this.reader.position = Math.max(this.position, next);
  }
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RecordShape {
  /** Arbitrary bytes in payloads and headers (needs protobuf or base64); otherwise printable text. */
  binary: boolean;
  /** Largest payload in bytes. */
  payloadBytesMax: number;
  /** Largest number of headers per record. */
  headersMax: number;
}

/** The records of append `key`: tagged bodies (model.ts) with random payloads and headers. */
export function makeRecords(key: string, count: number, random: () => number, shape: RecordShape): RecordData[] {
  const bytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = shape.binary ? Math.floor(random() * 256) : 0x20 + Math.floor(random() * 95);
    return out;
  };
  const records: RecordData[] = [];
  for (let i = 0; i < count; i++) {
    const headers: Header[] = [];
    const headerCount = Math.floor(random() * (shape.headersMax + 1));
    // A header name is never empty: one empty-named header would make a command record (S2-API §8.2).
    for (let h = 0; h < headerCount; h++) headers.push([bytes(1 + Math.floor(random() * 8)), bytes(Math.floor(random() * 16))]);
    records.push({ headers, body: taggedBody(key, i, bytes(Math.floor(random() * (shape.payloadBytesMax + 1)))) });
  }
  return records;
}
