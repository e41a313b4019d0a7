/**
 * Resident memory of a server's processes (Linux /proc): every process of one process group (the front,
 * Miniflare and workerd of a test server, test/support/local-server.ts), summed by command name.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface MemorySample {
  atMs: number;
  /** RSS in MiB by command name (`workerd`; Node's processes call themselves `MainThread`). */
  rssMiB: Record<string, number>;
  /** CPU time used so far (user + system), in seconds, by command name. */
  cpuSecs: Record<string, number>;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SEC = 100;

/** Process ids of the group `pgid` (field 5 of /proc/<pid>/stat). */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command may contain spaces and parentheses: fields start after the last `)`.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

export function sampleGroupMemory(pgid: number): MemorySample {
  const rssMiB: Record<string, number> = {};
  const cpuSecs: Record<string, number> = {};
  for (const pid of groupMembers(pgid)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "?";
      const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? "0");
      rssMiB[name] = (rssMiB[name] ?? 0) + kib / 1024;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command.
      cpuSecs[name] = (cpuSecs[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
    } catch {
      // The process ended meanwhile.
    }
  }
  return { atMs: Date.now(), rssMiB, cpuSecs };
}

/** Least-squares slope of `values` over `times` (per minute when times are ms). */
export function slopePerMinute(times: readonly number[], values: readonly number[]): number {
  const n = times.length;
  if (n < 2) return 0;
  const mt = times.reduce((a, b) => a + b, 0) / n;
  const mv = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (times[i]! - mt) * (values[i]! - mv);
    den += (times[i]! - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
