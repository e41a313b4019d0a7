/**
 * Where subscriptions meet streams (PROTOCOL.md §6.1–6.4): linking paths at their current tails, watching
 * linked streams so their appends report back, backfilling pattern matches from the basin's listing, and
 * asking streams for their tails directly when reports may lag (a claim).
 */
import { globPrefix, matchesGlob, type Link } from "../domain/subscription";
import { basinStub, streamStub, type Env } from "../env";
import type { SubscriptionStore } from "../storage/subscription-store";

/** Streams of the basin the pattern matches now, from the listing narrowed by the pattern's literal prefix. */
export async function streamsMatching(env: Env, basin: string, pattern: string): Promise<string[]> {
  const names: string[] = [];
  const prefix = globPrefix(pattern);
  let startAfter = "";
  for (;;) {
    const page = await basinStub(env, basin).listStreams({ prefix, startAfter, limit: 1000 });
    for (const stream of page.items) if (stream.deletedAtMs === null && matchesGlob(pattern, stream.name)) names.push(stream.name);
    if (!page.hasMore || page.items.length === 0) return names;
    startAfter = page.items[page.items.length - 1]!.name;
  }
}

/**
 * Links paths at their current tails, so creating a subscription replays no history (a path with no stream
 * yet is linked from its start), and marks existing streams watched.
 */
export async function linkStreams(
  env: Env, store: SubscriptionStore, basin: string, id: string, paths: readonly string[], kind: "explicit" | "glob",
): Promise<void> {
  for (const path of paths) {
    const stream = streamStub(env, basin, path);
    const described = await stream.describe();
    const tail = described.ok ? described.value.tail.seqNum : 0;
    const link: Link = store.link(id, path) ?? { path, explicit: false, glob: false, ackedSeqNum: tail, tailSeqNum: tail };
    store.saveLink(id, { ...link, [kind]: true });
    if (described.ok) await stream.watch(true);
  }
}

/** Streams no subscription links any more stop reporting their appends. */
export async function unwatchUnlinked(env: Env, store: SubscriptionStore, basin: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (store.linkedBy(path).length === 0) await streamStub(env, basin, path).watch(false);
  }
}

/** The tails of a subscription's streams as the streams know them (reports are not awaited by writers). */
export async function refreshTails(env: Env, store: SubscriptionStore, basin: string, id: string): Promise<void> {
  for (const link of store.links(id)) {
    const described = await streamStub(env, basin, link.path).describe();
    const current = store.link(id, link.path);
    if (described.ok && current && described.value.tail.seqNum > current.tailSeqNum) {
      store.saveLink(id, { ...current, tailSeqNum: described.value.tail.seqNum });
    }
  }
}
