// Live readers on one stream (any target, SSE or long-poll): the lifecycle every reader shares, attaching a
// group of them before the writer starts, waiting until each has finished while deliveries make progress,
// saying why some did not, and the row of what they received.
import { performance } from "node:perf_hooks";
import { MiB, round, sleep, summarize } from "./stats.mjs";

/**
 * A reader's status goes new → connecting → connected → attached (following the tail), then ends complete,
 * failed (with a `reason`) or closed (on purpose). `attached` settles at the first of those that applies,
 * `finished` when it ends, and ending destroys the reader's connection (`req`, `res`).
 */
export class ReaderLifecycle {
  constructor() {
    this.status = "new";
    this.reason = undefined;
    this.attached = new Promise((resolve, reject) => { this._attachOk = resolve; this._attachFail = reject; });
    this.attached.catch(() => {});
    this.finished = new Promise((resolve) => { this._finish = resolve; });
  }

  get done() {
    return this.status === "failed" || this.status === "complete" || this.status === "closed";
  }

  _markAttached() {
    if (this.status === "connecting" || this.status === "connected") {
      this.status = "attached";
      this._attachOk();
    }
  }

  /** Every expected record arrived, the last at `at`. */
  _complete(at) {
    this.status = "complete";
    this.completedAt = at;
    this._disconnect();
    this._finish({ ok: true });
  }

  fail(reason) {
    if (this.done) return;
    const wasAttached = this.status === "attached";
    this.status = "failed";
    this.reason = reason;
    if (!wasAttached) this._attachFail(new Error(reason));
    this._disconnect();
    this._finish({ ok: false, reason });
  }

  /** Ends the reader on purpose (at the end of a case). */
  close() {
    if (this.done) return;
    if (this.status !== "attached") this._attachFail(new Error("closed before attaching"));
    this.status = "closed";
    this._disconnect();
    this._finish({ ok: true });
  }

  _disconnect() {
    try { this.res?.destroy(); } catch { /* ignore */ }
    try { this.req?.destroy(); } catch { /* ignore */ }
  }
}

/**
 * Opens `readers` with at most `parallel` connection attempts at a time, each waiting for its first ping
 * (= the session switched to following the tail). Resolves { attached, failed: [reasons] }.
 */
export async function attachAll(readers, { parallel = 50, timeoutMs = 60_000, signal } = {}) {
  const failures = [];
  let index = 0;
  const deadline = Date.now() + timeoutMs;
  async function lane() {
    while (index < readers.length && !signal?.aborted) {
      const reader = readers[index++];
      reader.start();
      const left = deadline - Date.now();
      let timer;
      const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("no ping before attach deadline")), Math.max(0, left)); });
      try {
        await Promise.race([reader.attached, timeout]);
      } catch (err) {
        reader.fail(err.message);
        failures.push(err.message);
      } finally {
        clearTimeout(timer);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, readers.length) }, lane));
  return { attached: readers.filter((r) => r.status === "attached").length, failed: failures };
}

/**
 * attachAll with a scenario's `attachParallel` and `attachTimeoutSec`. Resolves { attached, seconds, failure };
 * `failure` says why not every reader attached (undefined when all did).
 */
export async function attachReaders(readers, p, signal) {
  const t = performance.now();
  const { attached, failed } = await attachAll(readers, { parallel: p.attachParallel, timeoutMs: p.attachTimeoutSec * 1000, signal });
  const seconds = round((performance.now() - t) / 1000);
  const failure = attached === readers.length ? undefined
    : `${readers.length - attached} of ${readers.length} readers failed to attach (first: ${failed[0] ?? readers.find((r) => r.status === "failed")?.reason})`;
  return { attached, seconds, failure };
}

/**
 * Waits for every reader to finish (complete or failed) while deliveries make progress: gives up after
 * `stallSec` without a single new record reaching any reader (longer than the 15 s heartbeat bound), or after
 * `drainTimeoutSec` in all, so a slow server is told apart from one that stopped delivering. Resolves how the
 * wait ended: "complete", "stalled", "timeout" or "aborted".
 */
export async function awaitReaders(readers, { stallSec, drainTimeoutSec }, signal) {
  const startedAt = performance.now();
  let lastTotal = -1;
  let lastProgressAt = startedAt;
  for (;;) {
    if (readers.every((r) => r.status === "complete" || r.status === "failed")) return "complete";
    const now = performance.now();
    const total = readers.reduce((s, r) => s + r.count, 0);
    if (total !== lastTotal) {
      lastTotal = total;
      lastProgressAt = now;
    }
    if (now - lastProgressAt > stallSec * 1000) return "stalled";
    if (now - startedAt > drainTimeoutSec * 1000) return "timeout";
    if (signal.aborted) return "aborted";
    await sleep(100);
  }
}

/** "N readers failed: …" with the three most common reasons and how many readers failed for each. */
export function failedReadersReason(failedReaders) {
  const byReason = new Map();
  for (const r of failedReaders) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
  const top = [...byReason].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([why, n]) => `${n}x ${why}`);
  return `${failedReaders.length} readers failed: ${top.join("; ")}`;
}

/**
 * The row of a fan-out case: `recordsEach` records delivered to each complete reader, from the writer's start
 * `t0` to the last delivery, and the `e2e` latencies measured on them.
 */
export function deliveryRow({ label, reasons, complete, recordsEach, recordBytes, t0, e2e, extra }) {
  const lastRecv = Math.max(...complete.map((r) => r.completedAt ?? 0));
  const seconds = (lastRecv - t0) / 1000;
  const delivered = complete.length * recordsEach;
  return {
    label,
    valid: reasons.length === 0,
    reason: reasons[0],
    records: delivered,
    seconds: round(seconds),
    recordsPerSec: round(delivered / seconds, 1),
    mibPerSec: round((delivered * recordBytes) / MiB / seconds, 3),
    latencyKind: "e2e",
    latency: summarize(e2e),
    extra,
  };
}
