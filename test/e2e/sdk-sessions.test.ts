// The official S2 TypeScript SDK with DEFAULT settings (no forceTransport) against the server as `npm start` runs
// it: in Node the SDK opens append and read sessions as S2S over HTTP/2 (h2c for http://), which the local front
// (scripts/local-front.mjs) serves. Each test proves the sessions went over HTTP/2 by counting the SDK's
// `http2.connect` calls, then checks append sessions, read sessions, the Producer and a session failure.
import { createRequire, syncBuiltinESMExports } from "node:module";
import { AppendInput, AppendRecord, BatchTransform, Producer, S2, SeqNumMismatchError } from "@s2-dev/streamstore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { baseUrl, basinName, streamName } from "../support/s2";

// Count the HTTP/2 streams the SDK opens: it imports `node:http2` dynamically, whose ESM namespace follows the
// CommonJS exports once they are re-synced. Connections are pooled, so streams (one per session) are counted.
const http2 = createRequire(import.meta.url)("node:http2") as typeof import("node:http2");
const originalConnect = http2.connect;
let h2Streams = 0;

beforeAll(() => {
  http2.connect = ((...args: Parameters<typeof originalConnect>) => {
    const session = originalConnect(...args);
    const request = session.request.bind(session);
    session.request = ((...requestArgs: Parameters<typeof request>) => {
      h2Streams++;
      return request(...requestArgs);
    }) as typeof request;
    return session;
  }) as typeof originalConnect;
  syncBuiltinESMExports();
});

afterAll(() => {
  http2.connect = originalConnect;
  syncBuiltinESMExports();
});

/** Only what any client must say: where the server is and the token. Everything else is the SDK's default. */
function defaultClient(): S2 {
  return new S2({ accessToken: TEST_ROOT_TOKEN, endpoints: { account: baseUrl(), basin: baseUrl() } });
}

const s2 = defaultClient();
let basinNameValue: string;

beforeAll(async () => {
  basinNameValue = basinName("sdk-h2");
  await s2.basins.create({ basin: basinNameValue, config: { createStreamOnAppend: true } });
});

const records = (...bodies: string[]) => bodies.map((body) => AppendRecord.string({ body }));

describe("S2 SDK with default settings over the local HTTP/2 front", () => {
  it("runs a pipelined append session: acks in submission order", async () => {
    const before = h2Streams;
    const stream = s2.basin(basinNameValue).stream(streamName("sess"));
    const session = await stream.appendSession();
    const tickets = await Promise.all([
      session.submit(AppendInput.create(records("a", "b"))),
      session.submit(AppendInput.create(records("c"), { matchSeqNum: 2 })),
      session.submit(AppendInput.create(records("d", "e", "f"))),
    ]);
    const acks = await Promise.all(tickets.map((ticket) => ticket.ack()));
    expect(acks.map((ack) => [ack.start.seqNum, ack.end.seqNum])).toEqual([[0, 2], [2, 3], [3, 6]]);
    await session.close();
    expect(h2Streams, "the SDK did not open an HTTP/2 stream").toBeGreaterThan(before);
    expect((await stream.checkTail()).tail.seqNum).toBe(6);
  });

  it("runs a read session: catch-up, then live records appended meanwhile", async () => {
    const before = h2Streams;
    const stream = s2.basin(basinNameValue).stream(streamName("read"));
    await stream.append(AppendInput.create(records("r0", "r1")));
    // A count alone cannot follow (spec §10.2): with `waitSecs` the budget spans catch-up and live records.
    const session = await stream.readSession({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 4 }, waitSecs: 10 } });
    const seen: [number, string][] = [];
    const reading = (async () => {
      for await (const record of session) seen.push([record.seqNum, record.body]);
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stream.append(AppendInput.create(records("r2", "r3")));
    await reading;
    expect(seen).toEqual([[0, "r0"], [1, "r1"], [2, "r2"], [3, "r3"]]);
    expect(h2Streams).toBeGreaterThan(before);
  });

  it("runs the Producer: per-record acks with consecutive seq nums", async () => {
    const before = h2Streams;
    const stream = s2.basin(basinNameValue).stream(streamName("prod"));
    const producer = new Producer(new BatchTransform({ lingerDurationMillis: 5 }), await stream.appendSession());
    const tickets = [];
    for (let i = 0; i < 25; i++) tickets.push(await producer.submit(AppendRecord.string({ body: `p${i}` })));
    const acks = await Promise.all(tickets.map((ticket) => ticket.ack()));
    expect(acks.map((ack) => ack.seqNum())).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await producer.close();
    expect(h2Streams).toBeGreaterThan(before);
    const batch = await stream.read({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 25 } } });
    expect(batch.records.map((record) => record.body)).toEqual(Array.from({ length: 25 }, (_, i) => `p${i}`));
  });

  it("surfaces a failed match_seq_num in a session as SeqNumMismatchError, after the earlier ack", async () => {
    const stream = s2.basin(basinNameValue).stream(streamName("fail"));
    const session = await stream.appendSession();
    const first = await session.submit(AppendInput.create(records("ok")));
    expect((await first.ack()).end.seqNum).toBe(1);
    const caught = await session
      .submit(AppendInput.create(records("bad"), { matchSeqNum: 5 }))
      .then((ticket) => ticket.ack())
      .then(() => undefined, (error: unknown) => error);
    expect(caught).toBeInstanceOf(SeqNumMismatchError);
    expect((caught as SeqNumMismatchError).expectedSeqNum).toBe(1);
    await session.close().catch(() => undefined);
    expect((await stream.checkTail()).tail.seqNum).toBe(1);
  });
});
