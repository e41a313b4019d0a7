// Latency summaries and small helpers shared by scenarios.
export const MiB = 1024 * 1024;

/** Nearest-rank percentiles over a numeric array (ms). Empty input → undefined. */
export function summarize(values) {
  const n = values.length;
  if (n === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n,
    min: round(sorted[0]),
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    p999: round(at(99.9)),
    max: round(sorted[n - 1]),
    mean: round(sum / n),
  };
}

export const round = (v, digits = 3) => (v === undefined || v === null ? v : Number(v.toFixed(digits)));

export const sleep = (ms, signal) => new Promise((resolve) => {
  if (signal?.aborted || ms <= 0) return resolve();
  const timer = setTimeout(done, ms);
  function done() {
    clearTimeout(timer);
    signal?.removeEventListener("abort", done);
    resolve();
  }
  signal?.addEventListener("abort", done, { once: true });
});

/**
 * Checks acknowledged ranges tile [from, from + total) exactly: consecutive seq nums, no gap, no overlap,
 * each ack spanning exactly the records its batch carried. Returns a list of problems (empty = fine).
 */
export function checkAcks(acks, from = 0) {
  const problems = [];
  const sorted = [...acks].sort((a, b) => a.start - b.start);
  let next = from;
  for (const a of sorted) {
    if (a.end - a.start !== a.count) problems.push(`ack [${a.start},${a.end}) spans ${a.end - a.start} seq nums for ${a.count} records`);
    if (a.start !== next) problems.push(a.start > next ? `gap: no ack covers seq ${next}..${a.start - 1}` : `overlap: ack [${a.start},${a.end}) starts before ${next}`);
    if (a.tail !== undefined && a.tail < a.end) problems.push(`ack [${a.start},${a.end}) reports tail ${a.tail} < end`);
    next = Math.max(next, a.end);
    if (problems.length > 10) break;
  }
  return { problems, next };
}

/** An ack JSON → { start, end, tail } seq nums, or throws if the shape is wrong. */
export function ackRange(ack, count) {
  const start = ack?.start?.seq_num;
  const end = ack?.end?.seq_num;
  if (!Number.isInteger(start) || !Number.isInteger(end)) throw new Error(`malformed ack ${JSON.stringify(ack)}`);
  return { start, end, tail: ack?.tail?.seq_num, count };
}

/** A body of exactly `size` ASCII bytes starting with `prefix`. */
export function paddedBody(prefix, size) {
  if (prefix.length >= size) return prefix.slice(0, size);
  return prefix + PAD.slice(0, size - prefix.length);
}
const PAD = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(1 + Math.ceil((1 << 20) / 36)).slice(0, 1 << 20);
