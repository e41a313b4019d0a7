// Durable Streams subscriptions on the engine (PROTOCOL.md §6–7): linked streams report their appends to the
// basin's subscription object, whichever protocol appended, and stop once nothing links them.
import { describe, expect, it } from "vitest";
import { appendOk, uniqueStream } from "./helpers";
import { control, DS_BASIN, ds, isWatched } from "./ds-helpers";

const subscription = (id: string, init: { method?: string; body?: unknown } = {}) => control(`subscriptions/${id}`, init);

async function wakeEvents(wakeStream: string): Promise<{ subscription_id: string; stream: string; generation: number }[]> {
  return (await ds(wakeStream)).json();
}

describe("pull-wake subscriptions", () => {
  it("wakes on an S2 append to a linked stream, and hands the wake to the first claim", async () => {
    const id = uniqueStream("sub");
    const wakeStream = uniqueStream("wake");
    const prefix = uniqueStream("linked");
    const path = `${prefix}/a`;
    expect((await ds(wakeStream, { method: "PUT", headers: { "content-type": "application/json" }, body: "[]" })).status).toBe(201);
    expect((await subscription(id, { method: "PUT", body: { type: "pull-wake", pattern: `${prefix}/*`, wake_stream: wakeStream } })).status).toBe(201);
    // Created empty: linked (and watched), but nothing is pending, so nothing wakes.
    expect((await ds(path, { method: "PUT", headers: { "content-type": "text/plain" } })).status).toBe(201);
    expect(await isWatched(path)).toBe(true);
    expect(await wakeEvents(wakeStream)).toEqual([]);

    await appendOk(DS_BASIN, path, ["through S2"]);
    let events = await wakeEvents(wakeStream);
    for (let attempt = 0; attempt < 50 && events.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      events = await wakeEvents(wakeStream);
    }
    expect(events).toEqual([expect.objectContaining({ type: "wake", subscription_id: id, stream: path, generation: 1 })]);

    const claim = await control(`subscriptions/${id}/claim`, { method: "POST", body: { worker: "w" } });
    expect(claim.status).toBe(200);
    const claimed = await claim.json() as { generation: number; streams: { path: string; tail_offset: string; has_pending: boolean }[] };
    expect(claimed.generation).toBe(1);
    expect(claimed.streams).toEqual([expect.objectContaining({ path, tail_offset: "0000000000000001_0000000000000000", has_pending: true })]);
  });

  it("never takes a control path for a stream name, however it is encoded", async () => {
    expect((await ds("__ds/subscriptions/x", { method: "PUT" })).status).toBe(400);
  });

  it("unwatches a stream once no subscription links it", async () => {
    const id = uniqueStream("sub");
    const path = uniqueStream("explicit");
    expect((await ds(path, { method: "PUT", headers: { "content-type": "text/plain" }, body: "x" })).status).toBe(201);
    expect(await isWatched(path)).toBe(false);
    expect((await subscription(id, { method: "PUT", body: { type: "pull-wake", streams: [path], wake_stream: uniqueStream("w") } })).status).toBe(201);
    expect(await isWatched(path)).toBe(true);
    // Linked at its tail: creating the subscription replays no history.
    const view = await (await subscription(id)).json() as { streams: { path: string; acked_offset: string }[] };
    expect(view.streams).toEqual([{ path, link_type: "explicit", acked_offset: "0000000000000001_0000000000000000" }]);
    expect((await subscription(id, { method: "DELETE" })).status).toBe(204);
    expect(await isWatched(path)).toBe(false);
    expect((await subscription(id)).status).toBe(404);
  });
});
