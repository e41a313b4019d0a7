// Account-level basin operations through the SDK (spec §5, §6.1, §13, §14.1).
import { describe, expect, it } from "vitest";
import { S2Error, type S2RequestOptions } from "@s2-dev/streamstore";
import { basinName, client, compact, expectS2Error } from "../support/s2";

const s2 = client();

describe("basins", () => {
  it("create returns BasinInfo and the default config", async () => {
    const name = basinName("create");
    const before = Date.now();
    const info = await s2.basins.create({ basin: name });
    expect(info.name).toBe(name);
    expect(info.deletedAt ?? null).toBeNull();
    expect(info.createdAt.getTime()).toBeGreaterThanOrEqual(before - 60_000);
    expect(info.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);

    const config = await s2.basins.getConfig({ basin: name });
    expect(compact(config)).toEqual({ createStreamOnAppend: false, createStreamOnRead: false });
  });

  it("create stores the requested config", async () => {
    const name = basinName("create-cfg");
    await s2.basins.create({
      basin: name,
      config: {
        createStreamOnAppend: true,
        createStreamOnRead: true,
        defaultStreamConfig: { retentionPolicy: { ageSecs: 3600 }, timestamping: { mode: "arrival" } },
      },
    });
    const config = await s2.basins.getConfig({ basin: name });
    expect(compact(config)).toMatchObject({
      createStreamOnAppend: true,
      createStreamOnRead: true,
      defaultStreamConfig: { retentionPolicy: { ageSecs: 3600 }, timestamping: { mode: "arrival" } },
    });
  });

  it("a second create without the same request token is 409 resource_already_exists", async () => {
    const name = basinName("dup");
    await s2.basins.create({ basin: name });
    // The SDK draws a fresh random s2-request-token per create call.
    await expectS2Error(s2.basins.create({ basin: name }), 409, "resource_already_exists");
  });

  it("a replayed create with the same request token succeeds (idempotent)", async () => {
    const name = basinName("idem");
    // The SDK spreads request options over its own, which lets us pin the token it sends.
    const pinned = { headers: { "s2-request-token": "e2e-fixed-token-1" } } as S2RequestOptions;
    const first = await s2.basins.create({ basin: name }, pinned);
    const again = await s2.basins.create({ basin: name }, pinned);
    expect(again.name).toBe(name);
    expect(again.createdAt.getTime()).toBe(first.createdAt.getTime());
    const other = { headers: { "s2-request-token": "e2e-fixed-token-2" } } as S2RequestOptions;
    await expectS2Error(s2.basins.create({ basin: name }, other), 409, "resource_already_exists");
  });

  it("ensure creates, then is a noop, then updates and resets to defaults", async () => {
    const name = basinName("ensure");
    const created = await s2.basins.ensure({ basin: name });
    expect(created.result).toBe("created");
    expect(created.basin.name).toBe(name);

    const noop = await s2.basins.ensure({ basin: name });
    expect(noop.result).toBe("noop");

    const updated = await s2.basins.ensure({ basin: name, config: { createStreamOnRead: true } });
    expect(updated.result).toBe("updated");
    expect(compact(await s2.basins.getConfig({ basin: name }))).toEqual({
      createStreamOnAppend: false,
      createStreamOnRead: true,
    });

    // PUT converges to exactly the requested config: omitted fields go back to their defaults (§13.3).
    const reset = await s2.basins.ensure({ basin: name, config: {} });
    expect(reset.result).toBe("updated");
    expect(compact(await s2.basins.getConfig({ basin: name }))).toEqual({
      createStreamOnAppend: false,
      createStreamOnRead: false,
    });
  });

  it("list filters by prefix and pages with start_after / limit / has_more", async () => {
    const prefix = basinName("lst").slice(0, 20);
    const names = [`${prefix}-a1`, `${prefix}-b2`, `${prefix}-c3`];
    for (const n of [names[2]!, names[0]!, names[1]!]) await s2.basins.create({ basin: n });

    const all = await s2.basins.list({ prefix });
    expect(all.basins.map((b) => b.name)).toEqual(names);
    expect(all.hasMore).toBe(false);
    expect(all.basins.every((b) => (b.deletedAt ?? null) === null)).toBe(true);

    const page1 = await s2.basins.list({ prefix, limit: 2 });
    expect(page1.basins.map((b) => b.name)).toEqual(names.slice(0, 2));
    expect(page1.hasMore).toBe(true);

    const page2 = await s2.basins.list({ prefix, startAfter: names[1]!, limit: 2 });
    expect(page2.basins.map((b) => b.name)).toEqual([names[2]]);
    expect(page2.hasMore).toBe(false);

    // A start_after sorting before the prefix is allowed: the range starts at the prefix (§5).
    const early = await s2.basins.list({ prefix, startAfter: "a", limit: 1 });
    expect(early.basins.map((b) => b.name)).toEqual([names[0]]);
    expect(early.hasMore).toBe(true);

    const collected: string[] = [];
    for await (const b of s2.basins.listAll({ prefix, limit: 1 })) collected.push(b.name);
    expect(collected).toEqual(names);

    expect((await s2.basins.list({ prefix: `${prefix}-zz` })).basins).toEqual([]);
  });

  it("reconfigure patches only the given fields", async () => {
    const name = basinName("reconf");
    await s2.basins.create({
      basin: name,
      config: { createStreamOnRead: true, defaultStreamConfig: { storageClass: "standard" } },
    });
    const patched = await s2.basins.reconfigure({
      basin: name,
      createStreamOnAppend: true,
      defaultStreamConfig: { retentionPolicy: { ageSecs: 7200 } },
    });
    const expected = {
      createStreamOnAppend: true,
      createStreamOnRead: true,
      defaultStreamConfig: { storageClass: "standard", retentionPolicy: { ageSecs: 7200 } },
    };
    expect(compact(patched)).toMatchObject(expected);
    expect(compact(await s2.basins.getConfig({ basin: name }))).toMatchObject(expected);

    const unchanged = await s2.basins.reconfigure({ basin: name });
    expect(compact(unchanged)).toMatchObject(expected);
  });

  it("delete is accepted, then the basin is gone or pending deletion", async () => {
    const name = basinName("del");
    await s2.basins.create({ basin: name });
    await s2.basins.delete({ basin: name });

    const listed = (await s2.basins.list({ prefix: name })).basins;
    if (listed.length > 0) {
      expect(listed.map((b) => b.name)).toEqual([name]);
      expect(listed[0]!.deletedAt).toBeInstanceOf(Date);
      // While the name is reserved, re-creating it reports the pending deletion (§6.1); the deletion of an
      // empty basin may finish in between, and then the name is free again.
      const recreated = await outcome(s2.basins.create({ basin: name }));
      if (recreated.ok) {
        await s2.basins.delete({ basin: name });
      } else {
        expect(recreated.error).toMatchObject({ status: 409, code: "basin_deletion_pending" });
        // Deleting again is idempotent while pending, and 404 once the deletion has finished.
        const again = await outcome(s2.basins.delete({ basin: name }));
        if (!again.ok) expect(again.error).toMatchObject({ status: 404, code: "basin_not_found" });
      }
    } else {
      await expectS2Error(s2.basins.getConfig({ basin: name }), 404, "basin_not_found");
    }
    // Either way it no longer counts as an active basin.
    const active: string[] = [];
    for await (const b of s2.basins.listAll({ prefix: name })) active.push(b.name);
    expect(active).toEqual([]);
  });

  it("unknown basins are 404 basin_not_found", async () => {
    const name = basinName("missing");
    await expectS2Error(s2.basins.getConfig({ basin: name }), 404, "basin_not_found");
    await expectS2Error(s2.basins.delete({ basin: name }), 404, "basin_not_found");
    await expectS2Error(s2.basins.reconfigure({ basin: name, createStreamOnRead: true }), 404, "basin_not_found");
  });

  it("invalid basin names are 400", async () => {
    // Body names are rejected while parsing the JSON (lite: bad_json); path names as bad_path (§3).
    await expectS2Error(s2.basins.create({ basin: "short" }), 400, "bad_json");
    await expectS2Error(s2.basins.create({ basin: "Upper-Case-Name" }), 400, "bad_json");
    await expectS2Error(s2.basins.create({ basin: "-leading-hyphen" }), 400, "bad_json");
    await expectS2Error(s2.basins.create({ basin: "a".repeat(49) }), 400, "bad_json");
    await expectS2Error(s2.basins.getConfig({ basin: "bad_name_here" }), 400, "bad_path");
    await expectS2Error(s2.basins.ensure({ basin: "trailing-hyphen-" }), 400, "bad_path");
  });
});

/** Whether a call succeeded, or the S2Error it failed with. */
async function outcome(call: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: S2Error }> {
  try {
    await call;
    return { ok: true };
  } catch (error) {
    expect(error).toBeInstanceOf(S2Error);
    return { ok: false, error: error as S2Error };
  }
}
