/**
 * Maps over items with at most `concurrency` calls in flight, keeping the input order in the output: the
 * fan-outs of metrics queries (a basin's streams, the account's basins) without a burst of thousands of RPCs.
 */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
