/**
 * Runs a recorded workload against one stream and checks it: followers start first, then writers and
 * observers run for the given time (while an optional `during` hook injects faults), then writers stop,
 * the stream is read back, followers must catch up to its tail, and the checker (checker.ts) judges the
 * whole history.
 *
 *   readers ───────────────────────────────────────────────────── catch up to tail ─┐
 *   writers ──────── durationMs (and `during` done) ──┐                             │
 *                                                     stop → read log ─────────────┴→ read log again → check
 *
 * The log is read twice: an abandoned request (timed out on our side) may still land on the server after
 * the first read; the second read, after the followers caught up, is the one judged.
 */
import { checkHistory, type CheckResult } from "./checker";
import type { History, LogRecord } from "./model";
import { HistoryRecorder, rng, type RecordShape } from "./recorder";
import { readLog } from "./s2-clients";
import { sleep, type ClientContext, type Target } from "./wire";

export interface ClientSpec {
  /** Names the clients (`<kind>-<i>`) and their counters. */
  kind: string;
  count: number;
  /** Writers and observers stop when the run ends; readers once they have caught up. */
  role: "writer" | "reader";
  run(ctx: ClientContext, client: string): Promise<unknown>;
}

export interface WorkloadOptions {
  target: Target;
  durationMs: number;
  clients: ClientSpec[];
  seed?: number;
  shape?: Partial<RecordShape>;
  callTimeoutMs?: number;
  /** How long followers get to reach the final tail once the writers stopped. */
  catchUpTimeoutMs?: number;
  /** Runs alongside the writers (fault injection); the run lasts at least until it returns. */
  during?: (recorder: HistoryRecorder) => Promise<void>;
  log?: (line: string) => void;
  /** Logs the counters this often (long runs). */
  progressEveryMs?: number;
  /** Readers keep digests instead of bytes (recorder.ts): for long runs with many readers. */
  compact?: boolean;
}

export interface WorkloadResult {
  seed: number;
  history: History;
  log: LogRecord[];
  check: CheckResult;
  counters: Record<string, number>;
  elapsedMs: number;
}

const DEFAULT_SHAPE: RecordShape = { binary: true, payloadBytesMax: 256, headersMax: 2 };

export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const say = options.log ?? (() => undefined);
  const recorder = new HistoryRecorder({ compact: options.compact ?? false });
  const counters: Record<string, number> = {};
  const writersStop = new AbortController();
  const readersStop = new AbortController();
  const startedAt = Date.now();
  let clientSeed = seed;
  const contextFor = (): ClientContext => ({
    target: options.target, recorder, random: rng(++clientSeed), shape: { ...DEFAULT_SHAPE, ...options.shape },
    writersStop: writersStop.signal, readersStop: readersStop.signal, callTimeoutMs: options.callTimeoutMs ?? 10_000,
    count: (name, by = 1) => {
      counters[name] = (counters[name] ?? 0) + by;
    },
  });
  const start = (role: ClientSpec["role"]) => options.clients.filter((c) => c.role === role).flatMap((spec) =>
    Array.from({ length: spec.count }, (_, i) => spec.run(contextFor(), `${spec.kind}-${i}`).catch((error: unknown) => {
      counters[`${spec.kind}.crashed`] = (counters[`${spec.kind}.crashed`] ?? 0) + 1;
      say(`client ${spec.kind}-${i} crashed: ${(error as Error).stack ?? String(error)}`);
    })));

  const progress = options.progressEveryMs
    ? setInterval(() => say(`+${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${Object.entries(counters).sort().map(([k, v]) => `${k}=${v}`).join(" ")}`), options.progressEveryMs)
    : undefined;
  const readers = start("reader");
  const writers = start("writer");
  await Promise.all([sleep(options.durationMs), options.during?.(recorder)]);
  writersStop.abort();
  await Promise.all(writers);
  say(`writers stopped after ${Date.now() - startedAt} ms`);

  const first = await readLog(options.target);
  // Followers registered their reader when they started; one-off unary reads are readers of their own.
  const followers = recorder.history.readers.filter((r) => r.protocol !== "unary");
  for (const f of followers) f.mustReach = first.tail;
  const caughtUp = await waitFor(() => followers.every((f) => position(f) >= first.tail), options.catchUpTimeoutMs ?? 15_000);
  if (!caughtUp) say(`followers still behind after the catch-up timeout: ${followers.map((f) => `${f.client}@${position(f)}`).join(" ")}`);
  say(`followers caught up after ${Date.now() - startedAt} ms`);
  readersStop.abort();
  await Promise.race([Promise.all(readers), sleep(5_000)]);
  say(`readers stopped after ${Date.now() - startedAt} ms`);
  clearInterval(progress);
  const final = await readLog(options.target);
  const check = checkHistory(recorder.history, final.log);
  return { seed, history: recorder.history, log: final.log, check, counters, elapsedMs: Date.now() - startedAt };
}

function position(reader: History["readers"][number]): number {
  return reader.position ?? reader.start;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** A one-paragraph account of a run, for logs and failure messages. */
export function describeRun(result: WorkloadResult): string {
  const s = result.check.stats;
  const lines = [
    `seed ${result.seed}, ${(result.elapsedMs / 1000).toFixed(1)} s: ${s.records} records in the log; `
      + `${s.attempts} append attempts (${s.acknowledged} acknowledged, ${s.refused} refused, ${s.unknown} unknown, ${s.unknownApplied} of those applied); `
      + `${s.tailObservations} tail observations; ${s.readers} readers got ${s.deliveredRecords} records and ${s.deliveredBytes} bytes`,
    `counters: ${Object.entries(result.counters).sort().map(([k, v]) => `${k}=${v}`).join(" ")}`,
  ];
  if (result.check.violations.length > 0) {
    lines.push(`${result.check.violations.length + result.check.suppressed} violations:`);
    for (const v of result.check.violations) lines.push(`  [${v.kind}] ${v.message}`);
  }
  return lines.join("\n");
}
