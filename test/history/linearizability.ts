/**
 * Linearizability of one stream's history, given the order its appends took effect in (the final log).
 *
 * A stream is a log: its state after the i-th effective append is the tail E[i] (and the fencing token then
 * in force). Every call must look as if it took effect at one instant between its invocation and its
 * response: append i at p_i with p_1 ≤ p_2 ≤ … (the log's order), and every call that reported a state
 * (check-tail, a 412's current tail or token, an ack's tail) at an instant q with p_s ≤ q ≤ p_{s+1}, where s
 * is the state it reported. Reads that delivered a record of append i, or reported a tail, bound p_i from
 * above by when they saw it.
 *
 * Because the order of the appends is known, each constraint is a bound on one p_i:
 *
 *   append i invoked at t            →  p_i ≥ t          returned ok at t  →  p_i ≤ t
 *   state s reported during [a, b]   →  p_s ≤ b  and  p_{s+1} ≥ a
 *   record of append i seen at t     →  p_i ≤ t
 *
 * and the earliest-point greedy (p_i = max(lower_i, p_{i-1}), fail if above upper_i) decides whether a
 * linearization exists: it is exact for a chain of intervals.
 */
import type { Violation } from "./model";

/** One effective append, in log order: when it may have taken effect. */
export interface ChainOp {
  label: string;
  invokedAtMs: number;
  /** Earliest acknowledgement; Infinity when it was never acknowledged. */
  acknowledgedAtMs: number;
}

interface Bound {
  atMs: number;
  why: string;
}

export class LinearizabilityCheck {
  readonly #ops: readonly ChainOp[];
  /** lower[i], upper[i] for op i (1-based; index 0 unused). */
  readonly #lower: Bound[];
  readonly #upper: Bound[];

  constructor(ops: readonly ChainOp[], private readonly originMs: number) {
    this.#ops = ops;
    this.#lower = [{ atMs: -Infinity, why: "" }];
    this.#upper = [{ atMs: Infinity, why: "" }];
    for (const op of ops) {
      this.#lower.push({ atMs: op.invokedAtMs, why: `${op.label} was invoked` });
      this.#upper.push({ atMs: op.acknowledgedAtMs, why: `${op.label} was acknowledged` });
    }
  }

  get size(): number {
    return this.#ops.length;
  }

  /** A call reported the states first..last (one state, or a run with the same token) during [a, b]. */
  observeStates(first: number, last: number, invokedAtMs: number, completedAtMs: number, why: string): void {
    if (first >= 1) this.#tighten(this.#upper, first, completedAtMs, why, Math.min);
    if (last + 1 <= this.size) this.#tighten(this.#lower, last + 1, invokedAtMs, why, Math.max);
  }

  /** Append `index` (1-based) had taken effect by `atMs`: someone saw it then. */
  observeEffect(index: number, atMs: number, why: string): void {
    if (index >= 1) this.#tighten(this.#upper, index, atMs, why, Math.min);
  }

  /** Violations, one per append that cannot be placed; after one, the rest is checked from its latest point. */
  run(): Violation[] {
    const out: Violation[] = [];
    let previous: { atMs: number; label: string } | undefined;
    for (let i = 1; i <= this.size; i++) {
      const lower = this.#lower[i]!;
      const upper = this.#upper[i]!;
      const afterPrevious = previous !== undefined && previous.atMs > lower.atMs;
      const earliest = afterPrevious ? previous!.atMs : lower.atMs;
      if (earliest > upper.atMs) {
        const because = afterPrevious
          ? `it follows ${previous!.label} in the log, which cannot have taken effect before ${this.#time(previous!.atMs)}`
          : `${lower.why} at ${this.#time(lower.atMs)}`;
        out.push({
          kind: "linearizability",
          message: `${this.#ops[i - 1]!.label} (append #${i} in log order) must take effect after ${this.#time(earliest)} because ${because}, `
            + `but before ${this.#time(upper.atMs)} because ${upper.why}`,
        });
        previous = { atMs: upper.atMs, label: this.#ops[i - 1]!.label };
      } else {
        previous = { atMs: earliest, label: this.#ops[i - 1]!.label };
      }
    }
    return out;
  }

  #tighten(bounds: Bound[], index: number, atMs: number, why: string, pick: (a: number, b: number) => number): void {
    const current = bounds[index]!;
    if (pick(current.atMs, atMs) !== current.atMs) bounds[index] = { atMs, why };
  }

  #time(ms: number): string {
    if (!Number.isFinite(ms)) return ms > 0 ? "never" : "the start";
    return `+${(ms - this.originMs).toFixed(1)} ms`;
  }
}
