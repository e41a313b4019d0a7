/**
 * When a stream's tail is sealed into R2, and how big its SQLite may grow meanwhile. Every threshold is a
 * Worker var (wrangler.toml `[vars]`) with the default below; tests set tiny values.
 *
 *   SEAL_TAIL_BYTES         seal once the tail rows hold more packed bytes than this       default 4 MiB
 *   SEAL_TAIL_ROWS          ... or more rows (append batches) than this                    default 4096
 *   SEAL_AGE_SECS           ... or the oldest tail row is older than this                  default 600 s
 *   SEGMENT_BYTES_TARGET    bytes per sealed segment (a segment holds whole rows)          default 8 MiB
 *   TAIL_BYTES_MAX          appends are refused (503, retryable) while the tail holds      default 256 MiB
 *                           more than this, e.g. while R2 is unavailable: the bound on a
 *                           stream's SQLite, far below the 10 GB a Durable Object may hold
 *
 * The tail keeps what sealing leaves, so a healthy stream's SQLite stays near SEAL_TAIL_BYTES whatever its
 * total size.
 */
import type { TailStats } from "../storage/stream-store";

export interface SealPolicy {
  tailBytes: number;
  tailRows: number;
  ageMs: number;
  segmentBytesTarget: number;
  tailBytesMax: number;
}

const MIB = 1024 * 1024;

export interface SealVars {
  SEAL_TAIL_BYTES?: string;
  SEAL_TAIL_ROWS?: string;
  SEAL_AGE_SECS?: string;
  SEGMENT_BYTES_TARGET?: string;
  TAIL_BYTES_MAX?: string;
}

function positive(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

export function sealPolicy(vars: SealVars): SealPolicy {
  return {
    tailBytes: positive(vars.SEAL_TAIL_BYTES, 4 * MIB),
    tailRows: positive(vars.SEAL_TAIL_ROWS, 4096),
    ageMs: positive(vars.SEAL_AGE_SECS, 600) * 1000,
    segmentBytesTarget: positive(vars.SEGMENT_BYTES_TARGET, 8 * MIB),
    tailBytesMax: positive(vars.TAIL_BYTES_MAX, 256 * MIB),
  };
}

export function needsSeal(stats: TailStats, policy: SealPolicy, nowMs: number): boolean {
  if (stats.rows === 0) return false;
  return stats.bytes > policy.tailBytes || stats.rows > policy.tailRows ||
    (stats.oldestWrittenMs !== null && nowMs - stats.oldestWrittenMs > policy.ageMs);
}

/** When sealing will be due by age alone, for arming the alarm; null for an empty tail. */
export function sealDueMs(stats: TailStats, policy: SealPolicy): number | null {
  return stats.oldestWrittenMs === null ? null : stats.oldestWrittenMs + policy.ageMs + 1;
}
