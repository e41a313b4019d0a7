/**
 * Metered bytes, the unit of every byte limit (S2-API §8.3):
 *   metered(record) = 8 + 2 × headers + Σ(len(name) + len(value)) + len(body)
 */
import type { Header } from "./types";

export function meteredBytes(record: { headers: readonly Header[]; body: Uint8Array }): number {
  let total = 8 + 2 * record.headers.length + record.body.length;
  for (const [name, value] of record.headers) total += name.length + value.length;
  return total;
}
