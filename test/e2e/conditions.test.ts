// Append conditions and command records (spec §8.2, §9.2–§9.5).
import {
  AppendInput,
  AppendRecord,
  FencingTokenMismatchError,
  SeqNumMismatchError,
  type S2Basin,
} from "@s2-dev/streamstore";
import { beforeAll, describe, expect, it } from "vitest";
import { client, createBasin, createStream, expectS2Error } from "../support/s2";

const s2 = client();
let basin: S2Basin;

beforeAll(async () => {
  basin = await createBasin(s2, "conditions");
});

const one = (body: string, options?: { matchSeqNum?: number; fencingToken?: string }) =>
  AppendInput.create([AppendRecord.string({ body })], options);

describe("match_seq_num", () => {
  it("succeeds when it equals the next seq_num and fails with 412 carrying it otherwise", async () => {
    const s = await createStream(basin);
    // 0 is a real condition, not "unset".
    expect((await s.append(one("a", { matchSeqNum: 0 }))).start.seqNum).toBe(0);
    const err = await expectS2Error(s.append(one("b", { matchSeqNum: 0 })), 412);
    expect(err).toBeInstanceOf(SeqNumMismatchError);
    expect((err as SeqNumMismatchError).expectedSeqNum).toBe(1);

    const ahead = await expectS2Error(s.append(one("b", { matchSeqNum: 5 })), 412);
    expect((ahead as SeqNumMismatchError).expectedSeqNum).toBe(1);

    expect((await s.append(one("b", { matchSeqNum: 1 }))).start.seqNum).toBe(1);
    // The failed attempts appended nothing.
    expect((await s.checkTail()).tail.seqNum).toBe(2);
  });

  it("works on the protobuf path too", async () => {
    const s = await createStream(basin);
    const bytes = (matchSeqNum: number) =>
      AppendInput.create([AppendRecord.bytes({ body: new Uint8Array([1]) })], { matchSeqNum });
    expect((await s.append(bytes(0))).end.seqNum).toBe(1);
    const err = await expectS2Error(s.append(bytes(0)), 412);
    expect((err as SeqNumMismatchError).expectedSeqNum).toBe(1);
  });
});

describe("fencing", () => {
  it("an unfenced stream accepts the empty token and rejects any other with the current token", async () => {
    const s = await createStream(basin);
    await s.append(one("a", { fencingToken: "" }));
    const err = await expectS2Error(s.append(one("b", { fencingToken: "nope" })), 412);
    expect(err).toBeInstanceOf(FencingTokenMismatchError);
    expect((err as FencingTokenMismatchError).expectedFencingToken).toBe("");
  });

  it("a fence command sets the token; wrong tokens get 412 with the current one", async () => {
    const s = await createStream(basin);
    const fenceAck = await s.append(AppendInput.create([AppendRecord.fence("writer-1")]));
    expect(fenceAck.start.seqNum).toBe(0);

    const err = await expectS2Error(s.append(one("x", { fencingToken: "writer-0" })), 412);
    expect((err as FencingTokenMismatchError).expectedFencingToken).toBe("writer-1");
    await expectS2Error(s.append(one("x", { fencingToken: "" })), 412);

    expect((await s.append(one("ok", { fencingToken: "writer-1" }))).start.seqNum).toBe(1);
    // No token: no condition.
    expect((await s.append(one("free"))).start.seqNum).toBe(2);

    // The fence record reads back as a command record: one header with an empty name.
    const batch = await s.read({ start: { from: { seqNum: 0 } } });
    expect(batch.records.map((r) => [r.seqNum, r.headers, r.body])).toEqual([
      [0, [["", "fence"]], "writer-1"],
      [1, [], "ok"],
      [2, [], "free"],
    ]);
  });

  it("a fence with both conditions checks the old token, and an empty fence clears it", async () => {
    const s = await createStream(basin);
    await s.append(AppendInput.create([AppendRecord.fence("t1")]));
    // The batch carrying the new fence is checked against the token in force before it.
    await s.append(AppendInput.create([AppendRecord.fence("t2")], { fencingToken: "t1", matchSeqNum: 1 }));
    const err = await expectS2Error(s.append(one("x", { fencingToken: "t1" })), 412);
    expect((err as FencingTokenMismatchError).expectedFencingToken).toBe("t2");

    await s.append(AppendInput.create([AppendRecord.fence("")], { fencingToken: "t2" }));
    expect((await s.append(one("y", { fencingToken: "" }))).start.seqNum).toBe(3);
  });

  it("records after a fence in the same batch are accepted", async () => {
    const s = await createStream(basin);
    const ack = await s.append(
      AppendInput.create([AppendRecord.fence("same-batch"), AppendRecord.string({ body: "after" })]),
    );
    expect(ack.end.seqNum).toBe(2);
    const err = await expectS2Error(s.append(one("z", { fencingToken: "other" })), 412);
    expect((err as FencingTokenMismatchError).expectedFencingToken).toBe("same-batch");
  });

  it("invalid command records are 422 invalid", async () => {
    const s = await createStream(basin);
    const bad = (headers: Array<[string, string]>, body = "") =>
      s.append(AppendInput.create([AppendRecord.string({ body, headers })]));
    await expectS2Error(bad([["", "bogus"]]), 422, "invalid");
    await expectS2Error(bad([["", "fence"], ["k", "v"]], "tok"), 422, "invalid");
    await expectS2Error(bad([["", "fence"]], "x".repeat(37)), 422, "invalid");
    await expectS2Error(bad([["", "trim"]], "short"), 422, "invalid");
    expect((await s.checkTail()).tail.seqNum).toBe(0);
  });
});

describe("trim", () => {
  it("a trim command consumes a seq_num, leaves the tail alone and reads back as a command", async () => {
    const s = await createStream(basin);
    await s.append(AppendInput.create(["a", "b", "c", "d", "e"].map((body) => AppendRecord.string({ body }))));
    const ack = await s.append(AppendInput.create([AppendRecord.trim(3)]));
    expect([ack.start.seqNum, ack.end.seqNum]).toEqual([5, 6]);
    expect((await s.checkTail()).tail.seqNum).toBe(6);

    // Trimmed records may linger until the background job runs (§14.2), but never out of order or with gaps.
    const batch = await s.read({ start: { from: { seqNum: 0 } } }, { as: "bytes" });
    const seqs = batch.records.map((r) => r.seqNum);
    expect(seqs[0]).toBeLessThanOrEqual(3);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
    expect(seqs.at(-1)).toBe(5);
    const trimRecord = batch.records.at(-1)!;
    expect(trimRecord.headers.map(([n, v]) => [Buffer.from(n).toString(), Buffer.from(v).toString()])).toEqual([["", "trim"]]);
    expect(Buffer.from(trimRecord.body).readBigUInt64BE(0)).toBe(3n);
    const after = await s.append(AppendInput.create([AppendRecord.string({ body: "f" })]));
    expect(after.start.seqNum).toBe(6);
  });
});
