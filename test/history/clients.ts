/**
 * The standard client mixes of history runs, so the short run in `npm test`, the long `npm run history`
 * run, the fault tests and the soak all exercise the same clients.
 */
import { runDsHeadPoller, runDsProducer, runDsReader } from "./ds-clients";
import { runRandomReads, runS2Reader, runS2Writer, runTailPoller } from "./s2-clients";
import { sleep } from "./wire";
import type { ClientSpec } from "./workload";

/** Clients that need nothing but fetch: they run in Node and inside workerd alike. */
export function fetchClients(scale = 1, options: { durableStreams?: boolean } = {}): ClientSpec[] {
  const n = (count: number) => Math.max(1, Math.round(count * scale));
  const specs: ClientSpec[] = [
    { kind: "plain", count: n(2), role: "writer", run: (ctx, client) => runS2Writer(ctx, client, "plain") },
    { kind: "conditional", count: n(2), role: "writer", run: (ctx, client) => runS2Writer(ctx, client, "conditional") },
    { kind: "fencing", count: n(2), role: "writer", run: (ctx, client) => runS2Writer(ctx, client, "fencing") },
    { kind: "check-tail", count: 1, role: "writer", run: runTailPoller },
    { kind: "random-read", count: 1, role: "writer", run: runRandomReads },
    { kind: "poll", count: 1, role: "reader", run: (ctx, client) => runS2Reader(ctx, client, "poll") },
    { kind: "sse", count: n(2), role: "reader", run: (ctx, client) => runS2Reader(ctx, client, "sse") },
    { kind: "s2s-read", count: n(1), role: "reader", run: (ctx, client) => runS2Reader(ctx, client, "s2s") },
  ];
  if (options.durableStreams) {
    specs.push(
      { kind: "producer", count: n(2), role: "writer", run: runDsProducer },
      { kind: "ds-head", count: 1, role: "writer", run: runDsHeadPoller },
      { kind: "ds-long-poll", count: 1, role: "reader", run: (ctx, client) => runDsReader(ctx, client, "ds-long-poll") },
      { kind: "ds-sse", count: 1, role: "reader", run: (ctx, client) => runDsReader(ctx, client, "ds-sse") },
    );
  }
  return specs;
}

/** Followers that start from seq 0 only after `delayMs`: a long catch-up read while faults strike. */
export function lateFollowers(delayMs: number): ClientSpec[] {
  const late = (run: ClientSpec["run"]): ClientSpec["run"] => async (ctx, client) => {
    await sleep(delayMs, ctx.writersStop);
    return run(ctx, client);
  };
  return [
    { kind: "late-sse", count: 1, role: "reader", run: late((ctx, client) => runS2Reader(ctx, client, "sse")) },
    { kind: "late-s2s", count: 1, role: "reader", run: late((ctx, client) => runS2Reader(ctx, client, "s2s")) },
    { kind: "late-poll", count: 1, role: "reader", run: late((ctx, client) => runS2Reader(ctx, client, "poll")) },
  ];
}
