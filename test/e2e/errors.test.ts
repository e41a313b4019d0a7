// Error statuses and codes as the SDK surfaces them (spec §2, §8.4, §9.6, §10.2).
import { AppendInput, AppendRecord, type S2Basin } from "@s2-dev/streamstore";
import { beforeAll, describe, expect, it } from "vitest";
import { basinName, client, createBasin, createStream, expectS2Error, stream, streamName } from "../support/s2";

const s2 = client();
let basin: S2Basin;

beforeAll(async () => {
  basin = await createBasin(s2, "errors");
});

const one = () => AppendInput.create([AppendRecord.string({ body: "x" })]);

/** AppendInput.create refuses these client-side; a literal gets them to the server to judge. */
function unchecked(records: AppendRecord[]): AppendInput {
  return { records, meteredBytes: records.reduce((n, r) => n + r.meteredBytes, 0) };
}

describe("errors", () => {
  it("404 stream_not_found for every data-plane call on an unknown stream", async () => {
    const s = stream(basin, streamName("ghost"));
    await expectS2Error(s.append(one()), 404, "stream_not_found");
    await expectS2Error(s.read({ start: { from: { seqNum: 0 } } }), 404, "stream_not_found");
    await expectS2Error(s.checkTail(), 404, "stream_not_found");
  });

  it("404 basin_not_found for calls in an unknown basin", async () => {
    const ghost = s2.basin(basinName("ghost"));
    await expectS2Error(stream(ghost, "s").append(one()), 404, "basin_not_found");
    await expectS2Error(ghost.streams.create({ stream: "s" }), 404, "basin_not_found");
    await expectS2Error(s2.basins.getConfig({ basin: ghost.name }), 404, "basin_not_found");
  });

  it("409 resource_already_exists on duplicate basin and stream creates", async () => {
    await expectS2Error(s2.basins.create({ basin: basin.name }), 409, "resource_already_exists");
    const s = await createStream(basin);
    await expectS2Error(basin.streams.create({ stream: s.name }), 409, "resource_already_exists");
  });

  it("416 when reading past the tail, with the tail in the error", async () => {
    const s = await createStream(basin);
    await s.append(AppendInput.create([AppendRecord.string({ body: "a", timestamp: 77 })]));
    const err = await expectS2Error(s.read({ start: { from: { seqNum: 5 } } }), 416);
    expect((err as unknown as { tail?: unknown }).tail).toEqual({ seqNum: 1, timestamp: new Date(77) });
    const byTime = await expectS2Error(s.read({ start: { from: { timestamp: 78 } } }), 416);
    expect((byTime as unknown as { tail?: unknown }).tail).toEqual({ seqNum: 1, timestamp: new Date(77) });
  });

  it("422 invalid for an empty batch (JSON and protobuf)", async () => {
    const s = await createStream(basin);
    await expectS2Error(s.append(unchecked([])), 422, "invalid");
    // preferProtobuf is what the SDK's own sessions use to force the protobuf body.
    await expectS2Error(s.append(unchecked([]), { preferProtobuf: true } as never), 422, "invalid");
    expect((await s.checkTail()).tail.seqNum).toBe(0);
  });

  it("422 invalid for more than 1000 records (JSON and protobuf)", async () => {
    const s = await createStream(basin);
    const strings = Array.from({ length: 1001 }, () => AppendRecord.string({ body: "" }));
    await expectS2Error(s.append(unchecked(strings)), 422, "invalid");
    const bytes = Array.from({ length: 1001 }, () => AppendRecord.bytes({ body: new Uint8Array(0) }));
    await expectS2Error(s.append(unchecked(bytes)), 422, "invalid");
    expect((await s.checkTail()).tail.seqNum).toBe(0);
    // Exactly 1000 is fine.
    const ack = await s.append(AppendInput.create(strings.slice(0, 1000)));
    expect(ack.end.seqNum).toBe(1000);
  });

  it("422 invalid for a batch over 1 MiB of metered bytes", async () => {
    const s = await createStream(basin);
    const big = "x".repeat(600 * 1024);
    await expectS2Error(
      s.append(unchecked([AppendRecord.string({ body: big }), AppendRecord.string({ body: big })])),
      422,
      "invalid",
    );
    expect((await s.checkTail()).tail.seqNum).toBe(0);
  });

  it("400 for invalid names", async () => {
    await expectS2Error(s2.basins.create({ basin: "no" }), 400, "bad_json");
    await expectS2Error(s2.basins.getConfig({ basin: "NOT_VALID_basin" }), 400, "bad_path");
    await expectS2Error(basin.streams.create({ stream: ".." }), 400, "bad_json");
  });
});
