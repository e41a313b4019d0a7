/**
 * A live batch reaches every reader of its stream in this isolate as the same records array (live-feed.ts
 * shares the decoded message), so whatever a protocol renders from it is rendered once per batch and variant
 * (record format, content type, tail), not once per reader: with a thousand followers, rendering was most of
 * the Worker's work per delivery. Keyed weakly by the array, so a rendering lives as long as the batch does.
 */
import type { SequencedRecord } from "../domain/types";

const renders = new WeakMap<readonly SequencedRecord[], Map<string, unknown>>();

export function renderOncePerBatch<T>(records: readonly SequencedRecord[], variant: string, render: () => T): T {
  let byVariant = renders.get(records);
  if (!byVariant) renders.set(records, (byVariant = new Map()));
  if (!byVariant.has(variant)) byVariant.set(variant, render());
  return byVariant.get(variant) as T;
}
