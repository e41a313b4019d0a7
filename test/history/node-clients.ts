/**
 * History clients that need Node's own networking: S2S append sessions over HTTP/1.1 with a streaming
 * request body (full duplex, node:http), and the official S2 SDK with its default Node transport (S2S over
 * h2c through the local front) for append and read sessions.
 *
 * Session inputs are recorded as attempts when their frame is sent and completed when their ack arrives.
 * After a session's first failure the server applies nothing more (S2-API §12.3), so the inputs after the
 * failing one are recorded as refused, and the checker verifies they never took effect; when the
 * connection is simply lost, whatever was not acknowledged stays unknown.
 */
import http from "node:http";
import { AppendInput, AppendRecord, S2 } from "@s2-dev/streamstore";
import { decodeAppendAck, encodeAppendInput } from "../../src/protocol/s2/proto";
import { encodeFrame, FrameDecoder, openMessage } from "../../src/protocol/s2/s2s";
import type { AppendAttempt, AppendOutcome } from "./model";
import { makeRecords, type ReaderLog } from "./recorder";
import { recordsPath, s2Headers, sleep, type ClientContext } from "./wire";
import type { ClientSpec } from "./workload";

interface Pending {
  finish: (outcome: AppendOutcome) => AppendAttempt;
}

/** Failure → outcome for the input a terminal frame answers (its unary status and body). */
function terminalOutcome(status: number, body: string): AppendOutcome {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // judged by status
  }
  if (status === 412 && typeof parsed.seq_num_mismatch === "number") return { type: "seq_num_mismatch", expected: parsed.seq_num_mismatch };
  if (status === 412 && typeof parsed.fencing_token_mismatch === "string") return { type: "fencing_token_mismatch", expected: parsed.fencing_token_mismatch };
  if (status >= 400 && status < 500 && status !== 408 && status !== 499) return { type: "rejected", status, code: String(parsed.code ?? "") };
  return { type: "unknown", reason: `terminal ${status} ${body.slice(0, 80)}` };
}

/** Runs S2S append sessions over HTTP/1.1 duplex, one after the other, until told to stop. */
export async function runS2sAppendWriter(ctx: ClientContext, client: string, baseUrl: string): Promise<void> {
  let n = 0;
  let expected: number | undefined;
  while (!ctx.writersStop.aborted) {
    const conditional = ctx.random() < 0.3;
    const inputs = 3 + Math.floor(ctx.random() * 10);
    const next = await oneSession(ctx, client, baseUrl, inputs, conditional ? expected : undefined, () => ++n);
    expected = next;
    ctx.count("s2s-append.session");
    await sleep(10, ctx.writersStop);
  }
}

/** One session of `inputs` inputs; returns the tail the client believes in afterwards, if it knows. */
async function oneSession(
  ctx: ClientContext, client: string, baseUrl: string, inputs: number, matchFrom: number | undefined, nextN: () => number,
): Promise<number | undefined> {
  const t = ctx.target;
  const url = `${baseUrl}${recordsPath(t)}`;
  const pending: Pending[] = [];
  let known: number | undefined;
  /** After a terminal frame the server applies nothing more (S2-API §12.3): inputs sent later are refused. */
  let failed = false;
  const afterFailure: AppendOutcome = { type: "rejected", status: 0, code: "sent after the session failed" };
  const request = http.request(url, {
    method: "POST", headers: s2Headers(t, { "content-type": "s2s/proto" }), agent: false,
  });
  request.on("error", () => undefined);
  const done = new Promise<void>((resolve) => {
    const decoder = new FrameDecoder();
    const fail = (outcome: (i: number) => AppendOutcome) => {
      pending.splice(0).forEach((p, i) => p.finish(outcome(i)));
      resolve();
    };
    const timer = setTimeout(() => {
      request.destroy();
      fail(() => ({ type: "unknown", reason: "session timed out" }));
    }, ctx.callTimeoutMs * 2);
    request.on("response", (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        clearTimeout(timer);
        return fail(() => ({ type: "rejected", status: res.statusCode ?? 0, code: "session refused" }));
      }
      res.on("data", (chunk: Buffer) => {
        decoder.push(new Uint8Array(chunk));
        for (let next = decoder.next(); next.ok && next.value; next = decoder.next()) {
          const frame = next.value;
          if (frame.terminal) {
            const first = terminalOutcome(frame.status, frame.body);
            if (first.type === "seq_num_mismatch") known = first.expected;
            failed = true;
            fail((i) => (i === 0 ? first : afterFailure));
            continue;
          }
          const message = openMessage(frame);
          const ack = message.ok ? decodeAppendAck(message.value) : undefined;
          const p = pending.shift();
          if (!p || !ack?.ok) continue;
          const { start, end, tail } = ack.value;
          known = end.seqNum;
          p.finish({ type: "ok", start: start.seqNum, end: end.seqNum, tail: tail.seqNum, startTimestamp: start.timestamp, endTimestamp: end.timestamp });
        }
      });
      res.on("end", () => {
        clearTimeout(timer);
        fail(() => (failed ? afterFailure : { type: "unknown", reason: "session ended before its ack" }));
      });
      res.on("error", () => {
        clearTimeout(timer);
        fail(() => ({ type: "unknown", reason: "session connection lost" }));
      });
    });
    request.on("close", () => setTimeout(() => {
      clearTimeout(timer);
      fail(() => ({ type: "unknown", reason: "session connection closed" }));
    }, 100));
  });
  let match = matchFrom;
  for (let i = 0; i < inputs && !ctx.writersStop.aborted; i++) {
    const key = `${client}.${nextN()}`;
    const records = makeRecords(key, 1 + Math.floor(ctx.random() * 4), ctx.random, ctx.shape);
    const input = { records: records.map((r) => ({ headers: [...r.headers], body: r.body })), ...(match !== undefined ? { matchSeqNum: match } : {}) };
    pending.push({ finish: ctx.recorder.beginAppend({ key, client, records, ...(match !== undefined ? { matchSeqNum: match } : {}) }) });
    if (match !== undefined) match += records.length;
    request.write(encodeFrame(encodeAppendInput(input)));
    if (ctx.random() < 0.5) await sleep(ctx.random() * 20);
  }
  request.end();
  await done;
  return known;
}

/** The S2 SDK with its default Node transport; one attempt per call, so nothing is retried behind our back. */
export function sdkClient(baseUrl: string, token: string): S2 {
  return new S2({ accessToken: token, endpoints: { account: baseUrl, basin: baseUrl }, retry: { maxAttempts: 1 } });
}

/** Appends through SDK append sessions (S2S over h2c), a few pipelined inputs per session. */
export async function runSdkAppendWriter(ctx: ClientContext, client: string, baseUrl: string): Promise<void> {
  const s2 = sdkClient(baseUrl, ctx.target.token);
  const stream = s2.basin(ctx.target.basin).stream(ctx.target.stream);
  let n = 0;
  try {
    while (!ctx.writersStop.aborted) {
      let session;
      try {
        session = await stream.appendSession();
      } catch {
        ctx.count("sdk-append.open-failed");
        await sleep(100, ctx.writersStop);
        continue;
      }
      const acks: Promise<void>[] = [];
      const sessionStart = ctx.recorder.now();
      for (let i = 0; i < 5 && !ctx.writersStop.aborted; i++) {
        const key = `${client}.${++n}`;
        const records = makeRecords(key, 1 + Math.floor(ctx.random() * 4), ctx.random, ctx.shape);
        const finish = ctx.recorder.beginAppend({ key, client, records });
        acks.push((async () => {
          try {
            const ticket = await session.submit(AppendInput.create(records.map((r) => AppendRecord.bytes({ body: r.body, headers: r.headers }))));
            const ack = await ticket.ack();
            finish({
              type: "ok", start: ack.start.seqNum, end: ack.end.seqNum, tail: ack.tail.seqNum,
              startTimestamp: ack.start.timestamp.getTime(), endTimestamp: ack.end.timestamp.getTime(),
            });
            ctx.count("sdk-append.ok");
          } catch (error) {
            finish({ type: "unknown", reason: `SDK: ${(error as Error).message}` });
            ctx.count("sdk-append.unknown");
          }
        })());
        await sleep(ctx.random() * 10);
      }
      await Promise.all(acks);
      await session.close().catch(() => undefined);
      // A session that failed (server down) is not reopened in a tight loop.
      if (ctx.recorder.history.appends.some((a) => a.client === client && a.outcome.type === "unknown" && a.invokedAtMs > sessionStart)) {
        await sleep(100, ctx.writersStop);
      }
    }
  } finally {
    await stream.close().catch(() => undefined);
  }
}

/** Follows the stream with SDK read sessions, reconnecting from its own position. */
export async function runSdkReader(ctx: ClientContext, client: string, baseUrl: string, start = 0): Promise<ReaderLog> {
  const log = ctx.recorder.reader(client, "sdk-s2s", start);
  const s2 = sdkClient(baseUrl, ctx.target.token);
  const stream = s2.basin(ctx.target.basin).stream(ctx.target.stream);
  const stopped = new Promise<undefined>((resolve) => ctx.readersStop.addEventListener("abort", () => resolve(undefined), { once: true }));
  while (!ctx.readersStop.aborted) {
    try {
      const session = await stream.readSession({ start: { from: { seqNum: log.position } } }, { as: "bytes" });
      const records = session[Symbol.asyncIterator]();
      for (;;) {
        const next = await Promise.race([records.next(), stopped]);
        if (next === undefined) {
          void records.return?.().catch(() => undefined);
          break;
        }
        if (next.done) throw new Error("SDK read session ended");
        const r = next.value;
        log.record(r.seqNum, r.body, r.timestamp.getTime(), r.headers.map(([k, v]) => [k, v] as const));
      }
    } catch {
      ctx.count("read.sdk.reconnect");
    }
    await sleep(50 + ctx.random() * 100, ctx.readersStop);
  }
  // Not awaited: closing waits for the cancelled session, and the reader is done either way.
  void stream.close().catch(() => undefined);
  return log;
}

/** The Node-only clients of a history run: S2S duplex append sessions and the SDK's h2c sessions. */
export function nodeClients(baseUrl: string, scale = 1): ClientSpec[] {
  const n = (count: number) => Math.max(1, Math.round(count * scale));
  return [
    { kind: "s2s-append", count: n(1), role: "writer", run: (ctx, client) => runS2sAppendWriter(ctx, client, baseUrl) },
    { kind: "sdk-append", count: n(1), role: "writer", run: (ctx, client) => runSdkAppendWriter(ctx, client, baseUrl) },
    { kind: "sdk-read", count: n(1), role: "reader", run: (ctx, client) => runSdkReader(ctx, client, baseUrl) },
  ];
}
