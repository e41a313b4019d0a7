// Basin-level stream operations through the SDK (spec §5, §7, §13, §14.4).
import { AppendInput, AppendRecord, type S2Basin } from "@s2-dev/streamstore";
import { beforeAll, describe, expect, it } from "vitest";
import {
  basinName,
  client,
  createBasin,
  expectS2Error,
  resolved,
  stream,
  streamName,
  SYSTEM_DEFAULT_STREAM_CONFIG,
} from "../support/s2";

const s2 = client();
let basin: S2Basin;

beforeAll(async () => {
  basin = await createBasin(s2, "streams");
});

describe("streams", () => {
  it("create returns StreamInfo and the stream gets the system defaults", async () => {
    const name = streamName();
    const info = await basin.streams.create({ stream: name });
    expect(info.name).toBe(name);
    expect(info.deletedAt ?? null).toBeNull();
    expect(info.cipher ?? null).toBeNull();
    expect(Math.abs(info.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(resolved(await basin.streams.getConfig({ stream: name }))).toEqual(SYSTEM_DEFAULT_STREAM_CONFIG);
  });

  it("create stores an explicit config", async () => {
    const name = streamName();
    const config = {
      storageClass: "standard",
      retentionPolicy: { infinite: {} },
      timestamping: { mode: "arrival", uncapped: true },
      deleteOnEmpty: { minAgeSecs: 3600 },
    } as const;
    await basin.streams.create({ stream: name, config });
    expect(resolved(await basin.streams.getConfig({ stream: name }))).toEqual(config);
  });

  it("duplicate create is 409 resource_already_exists", async () => {
    const name = streamName();
    await basin.streams.create({ stream: name });
    await expectS2Error(basin.streams.create({ stream: name }), 409, "resource_already_exists");
  });

  it("new streams inherit the basin default_stream_config field by field", async () => {
    const b = await createBasin(s2, "defaults", {
      defaultStreamConfig: { retentionPolicy: { ageSecs: 3600 }, timestamping: { mode: "client-require" } },
    });
    const plain = streamName("plain");
    await b.streams.create({ stream: plain });
    expect(resolved(await b.streams.getConfig({ stream: plain }))).toEqual({
      ...SYSTEM_DEFAULT_STREAM_CONFIG,
      retentionPolicy: { ageSecs: 3600 },
      timestamping: { mode: "client-require", uncapped: false },
    });

    const own = streamName("own");
    await b.streams.create({ stream: own, config: { retentionPolicy: { infinite: {} } } });
    expect(resolved(await b.streams.getConfig({ stream: own }))).toEqual({
      ...SYSTEM_DEFAULT_STREAM_CONFIG,
      retentionPolicy: { infinite: {} },
      timestamping: { mode: "client-require", uncapped: false },
    });

    // Config is resolved at creation: later basin changes leave existing streams alone (§7).
    await s2.basins.reconfigure({ basin: b.name, defaultStreamConfig: { retentionPolicy: { ageSecs: 60 } } });
    expect(resolved(await b.streams.getConfig({ stream: plain })).retentionPolicy).toEqual({ ageSecs: 3600 });
    const later = streamName("later");
    await b.streams.create({ stream: later });
    expect(resolved(await b.streams.getConfig({ stream: later })).retentionPolicy).toEqual({ ageSecs: 60 });
  });

  it("ensure creates, is a noop, updates, and resets omitted fields to basin defaults", async () => {
    const b = await createBasin(s2, "ensure-s", { defaultStreamConfig: { storageClass: "standard" } });
    const name = streamName();
    const created = await b.streams.ensure({ stream: name, config: { retentionPolicy: { ageSecs: 100 } } });
    expect(created.result).toBe("created");
    expect(created.stream.name).toBe(name);

    const noop = await b.streams.ensure({ stream: name, config: { retentionPolicy: { ageSecs: 100 } } });
    expect(noop.result).toBe("noop");

    const updated = await b.streams.ensure({ stream: name, config: { timestamping: { mode: "arrival" } } });
    expect(updated.result).toBe("updated");
    expect(resolved(await b.streams.getConfig({ stream: name }))).toEqual({
      ...SYSTEM_DEFAULT_STREAM_CONFIG,
      storageClass: "standard",
      timestamping: { mode: "arrival", uncapped: false },
    });

    const bare = await b.streams.ensure({ stream: name });
    expect(bare.result).toBe("updated");
    expect(resolved(await b.streams.getConfig({ stream: name }))).toEqual({
      ...SYSTEM_DEFAULT_STREAM_CONFIG,
      storageClass: "standard",
    });
  });

  it("list filters by prefix and pages with start_after / limit / has_more", async () => {
    const prefix = streamName("lst");
    const names = [`${prefix}/a`, `${prefix}/b`, `${prefix}/c`];
    for (const n of [names[1]!, names[2]!, names[0]!]) await basin.streams.create({ stream: n });
    await basin.streams.create({ stream: `${prefix}x` }); // shares the prefix only up to the slash

    const all = await basin.streams.list({ prefix: `${prefix}/` });
    expect(all.streams.map((s) => s.name)).toEqual(names);
    expect(all.hasMore).toBe(false);

    const page1 = await basin.streams.list({ prefix: `${prefix}/`, limit: 2 });
    expect(page1.streams.map((s) => s.name)).toEqual(names.slice(0, 2));
    expect(page1.hasMore).toBe(true);

    const page2 = await basin.streams.list({ prefix: `${prefix}/`, startAfter: names[1]!, limit: 2 });
    expect(page2.streams.map((s) => s.name)).toEqual([names[2]]);
    expect(page2.hasMore).toBe(false);

    const wide = await basin.streams.list({ prefix });
    expect(wide.streams.map((s) => s.name)).toEqual([...names, `${prefix}x`]);

    const collected: string[] = [];
    for await (const s of basin.streams.listAll({ prefix: `${prefix}/`, limit: 1 })) collected.push(s.name);
    expect(collected).toEqual(names);
  });

  it("reconfigure patches only the given fields and returns the full config", async () => {
    const name = streamName();
    await basin.streams.create({ stream: name, config: { storageClass: "standard" } });
    const patched = await basin.streams.reconfigure({
      stream: name,
      retentionPolicy: { ageSecs: 86400 },
      timestamping: { uncapped: true },
    });
    const expected = {
      ...SYSTEM_DEFAULT_STREAM_CONFIG,
      storageClass: "standard",
      retentionPolicy: { ageSecs: 86400 },
      timestamping: { mode: "client-prefer", uncapped: true },
    };
    expect(resolved(patched)).toEqual(expected);
    expect(resolved(await basin.streams.getConfig({ stream: name }))).toEqual(expected);
  });

  it("retention age 0 is 422 invalid", async () => {
    await expectS2Error(
      basin.streams.create({ stream: streamName(), config: { retentionPolicy: { ageSecs: 0 } } }),
      422,
      "invalid",
    );
  });

  it("delete is accepted, then the stream is gone or pending deletion", async () => {
    const name = streamName("del");
    const s = stream(basin, name);
    await basin.streams.create({ stream: name });
    await s.append(AppendInput.create([AppendRecord.string({ body: "x" })]));
    await basin.streams.delete({ stream: name });

    const listed = (await basin.streams.list({ prefix: name })).streams;
    if (listed.length > 0) {
      expect(listed[0]!.deletedAt).toBeInstanceOf(Date);
      await expectS2Error(basin.streams.getConfig({ stream: name }), 409, "stream_deletion_pending");
      await expectS2Error(s.checkTail(), 409, "stream_deletion_pending");
    } else {
      await expectS2Error(basin.streams.getConfig({ stream: name }), 404, "stream_not_found");
      await expectS2Error(s.checkTail(), 404, "stream_not_found");
    }
  });

  it("create_stream_on_append creates the stream on first append", async () => {
    const b = await createBasin(s2, "auto-append", {
      createStreamOnAppend: true,
      defaultStreamConfig: { storageClass: "standard" },
    });
    const name = streamName();
    const ack = await stream(b, name).append(AppendInput.create([AppendRecord.string({ body: "first" })]));
    expect(ack.start.seqNum).toBe(0);
    expect(ack.end.seqNum).toBe(1);
    expect((await b.streams.list({ prefix: name })).streams.map((s) => s.name)).toEqual([name]);
    expect(resolved(await b.streams.getConfig({ stream: name })).storageClass).toBe("standard");
    // Reading is not covered by the append flag.
    await expectS2Error(stream(b, streamName()).checkTail(), 404, "stream_not_found");
  });

  it("create_stream_on_read creates the stream on check-tail and read", async () => {
    const b = await createBasin(s2, "auto-read", { createStreamOnRead: true });
    const name = streamName();
    const tail = await stream(b, name).checkTail();
    expect(tail.tail.seqNum).toBe(0);
    expect(tail.tail.timestamp.getTime()).toBe(0);
    expect((await b.streams.list({ prefix: name })).streams.map((s) => s.name)).toEqual([name]);

    // A read of a fresh stream with a wait long-polls and comes back empty.
    const other = streamName();
    const batch = await stream(b, other).read({ start: { from: { seqNum: 0 } }, stop: { waitSecs: 1 } });
    expect(batch.records).toEqual([]);
    expect((await b.streams.list({ prefix: other })).streams.map((s) => s.name)).toEqual([other]);

    await expectS2Error(
      stream(b, streamName()).append(AppendInput.create([AppendRecord.string({ body: "x" })])),
      404,
      "stream_not_found",
    );
  });

  it("stream names may contain slashes and unicode", async () => {
    const name = `${streamName()}/päth/🚀 space`;
    const info = await basin.streams.create({ stream: name });
    expect(info.name).toBe(name);
    const s = stream(basin, name);
    await s.append(AppendInput.create([AppendRecord.string({ body: "hello" })]));
    const batch = await s.read({ start: { from: { seqNum: 0 } } });
    expect(batch.records.map((r) => r.body)).toEqual(["hello"]);
    expect((await basin.streams.list({ prefix: name })).streams.map((s) => s.name)).toEqual([name]);
  });

  it("unknown streams and basins are 404", async () => {
    await expectS2Error(basin.streams.getConfig({ stream: streamName() }), 404, "stream_not_found");
    await expectS2Error(basin.streams.delete({ stream: streamName() }), 404, "stream_not_found");
    await expectS2Error(basin.streams.reconfigure({ stream: streamName(), storageClass: "standard" }), 404, "stream_not_found");
    const ghost = s2.basin(basinName("ghost"));
    await expectS2Error(ghost.streams.create({ stream: "s" }), 404, "basin_not_found");
    await expectS2Error(ghost.streams.ensure({ stream: "s" }), 404, "basin_not_found");
  });

  it("invalid stream names in bodies are 400", async () => {
    await expectS2Error(basin.streams.create({ stream: "." }), 400, "bad_json");
    await expectS2Error(basin.streams.create({ stream: ".." }), 400, "bad_json");
  });
});
