// Timestamp assignment: mode → cap at arrival (unless uncapped) → raise to the previous max (spec §9.4).
import { AppendInput, AppendRecord, type S2Basin, type StreamConfig } from "@s2-dev/streamstore";
import { beforeAll, describe, expect, it } from "vitest";
import { client, createBasin, createStream, expectArrival, expectS2Error } from "../support/s2";

const s2 = client();
let basin: S2Basin;

beforeAll(async () => {
  basin = await createBasin(s2, "timestamps");
});

const rec = (body: string, timestamp?: number) =>
  AppendRecord.string({ body, ...(timestamp === undefined ? {} : { timestamp }) });
const withMode = (mode: "client-prefer" | "client-require" | "arrival", uncapped?: boolean): StreamConfig => ({
  timestamping: { mode, ...(uncapped === undefined ? {} : { uncapped }) },
});
const HOUR = 3_600_000;

describe("timestamping", () => {
  it("client-require rejects a batch with a missing timestamp (422) and keeps given ones", async () => {
    const s = await createStream(basin, withMode("client-require"));
    await expectS2Error(s.append(AppendInput.create([rec("a", 10), rec("b")])), 422, "invalid");
    expect((await s.checkTail()).tail.seqNum).toBe(0);
    const ack = await s.append(AppendInput.create([rec("a", 10), rec("b", 20)]));
    expect([ack.start.timestamp.getTime(), ack.end.timestamp.getTime()]).toEqual([10, 20]);
  });

  it("arrival ignores client timestamps", async () => {
    const s = await createStream(basin, withMode("arrival"));
    const before = Date.now();
    const ack = await s.append(AppendInput.create([rec("a", 1000), rec("b", Date.now() + HOUR)]));
    const after = Date.now();
    expectArrival(ack.start.timestamp, before, after);
    expectArrival(ack.end.timestamp, before, after);
  });

  it("client-prefer uses arrival time when no timestamp is given", async () => {
    const s = await createStream(basin, withMode("client-prefer"));
    const before = Date.now();
    const ack = await s.append(AppendInput.create([rec("a")]));
    expectArrival(ack.start.timestamp, before, Date.now());
  });

  it("client-prefer caps future timestamps at arrival", async () => {
    const s = await createStream(basin, withMode("client-prefer"));
    const before = Date.now();
    const ack = await s.append(AppendInput.create([rec("future", Date.now() + 10 * HOUR)]));
    const after = Date.now();
    expectArrival(ack.start.timestamp, before, after);
    const [record] = (await s.read({ start: { from: { seqNum: 0 } } })).records;
    expect(record!.timestamp.getTime()).toBe(ack.start.timestamp.getTime());
  });

  it("uncapped keeps future timestamps", async () => {
    const s = await createStream(basin, withMode("client-prefer", true));
    const future = Date.now() + 10 * HOUR;
    const ack = await s.append(AppendInput.create([rec("future", future)]));
    expect(ack.start.timestamp.getTime()).toBe(future);
    expect((await s.checkTail()).tail.timestamp.getTime()).toBe(future);
  });

  it("timestamps never go backwards, within a batch and across batches", async () => {
    const s = await createStream(basin);
    const first = await s.append(AppendInput.create([rec("a", 5000), rec("b", 3000), rec("c", 6000)]));
    expect([first.start.timestamp.getTime(), first.end.timestamp.getTime()]).toEqual([5000, 6000]);
    const second = await s.append(AppendInput.create([rec("d", 100)]));
    expect(second.start.timestamp.getTime()).toBe(6000);
    const batch = await s.read({ start: { from: { seqNum: 0 } } });
    expect(batch.records.map((r) => r.timestamp.getTime())).toEqual([5000, 5000, 6000, 6000]);
  });

  it("timestamp 0 is a valid client timestamp", async () => {
    const s = await createStream(basin);
    const ack = await s.append(AppendInput.create([rec("zero", 0)]));
    expect(ack.start.timestamp.getTime()).toBe(0);
  });

  it("reconfiguring the mode applies to the next append", async () => {
    const s = await createStream(basin);
    await s.append(AppendInput.create([rec("no-ts")]));
    await basin.streams.reconfigure({ stream: s.name, timestamping: { mode: "client-require" } });
    await expectS2Error(s.append(AppendInput.create([rec("no-ts")])), 422, "invalid");
  });

  it("the basin default timestamping mode applies to auto-created streams", async () => {
    const b = await createBasin(s2, "ts-auto", {
      createStreamOnAppend: true,
      defaultStreamConfig: withMode("client-require"),
    });
    const s = b.stream("auto-created", { forceTransport: "fetch" });
    await expectS2Error(s.append(AppendInput.create([rec("no-ts")])), 422, "invalid");
    const ack = await s.append(AppendInput.create([rec("ts", 42)]));
    expect(ack.start.timestamp.getTime()).toBe(42);
  });
});
