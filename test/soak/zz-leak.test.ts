import { it } from "vitest";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { startDevServer } from "../support/wrangler";
import { sampleGroupMemory } from "./process-memory";

const mode = process.env.LEAK_MODE ?? "longpoll";
it("leak probe " + mode, { timeout: 600_000 }, async () => {
  const server = await startDevServer();
  const h = { authorization: `Bearer ${TEST_ROOT_TOKEN}`, "s2-basin": "leak-basin-01", "content-type": "application/json" };
  await fetch(`${server.baseUrl}/v1/basins`, { method: "POST", headers: h, body: JSON.stringify({ basin: "leak-basin-01" }) });
  await fetch(`${server.baseUrl}/v1/streams`, { method: "POST", headers: h, body: JSON.stringify({ stream: "s" }) });
  const rec = `${server.baseUrl}/v1/streams/s/records`;
  let tail = 0;
  const mem = () => { const m = sampleGroupMemory(server.pid); return `workerd ${m.rssMiB.workerd?.toFixed(0)} MiB cpu ${m.cpuSecs.workerd?.toFixed(1)} s`; };
  console.log("start", mem());
  for (let round = 0; round < 6; round++) {
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < 10_000) {
      if (mode === "longpoll") {
        // 10 long-polls at the tail, then one append wakes them all.
        const polls = Array.from({ length: 10 }, () => fetch(`${rec}?seq_num=${tail}&wait=5`, { headers: h }).then((r) => r.text()));
        await new Promise((r) => setTimeout(r, 20));
        const ack = await (await fetch(rec, { method: "POST", headers: h, body: JSON.stringify({ records: [{ body: "x" }] }) })).json();
        tail = ack.end.seq_num;
        await Promise.all(polls);
        n += 10;
      } else if (mode === "catchup") {
        const polls = Array.from({ length: 10 }, () => fetch(`${rec}?seq_num=${Math.max(0, tail - 1)}`, { headers: h }).then((r) => r.text()));
        const ack = await (await fetch(rec, { method: "POST", headers: h, body: JSON.stringify({ records: [{ body: "x" }] }) })).json();
        tail = ack.end.seq_num;
        await Promise.all(polls);
        n += 10;
      } else {
        const ack = await (await fetch(rec, { method: "POST", headers: h, body: JSON.stringify({ records: [{ body: "x" }] }) })).json();
        tail = ack.end.seq_num;
        n++;
      }
    }
    console.log(`round ${round}: ${n} requests, tail ${tail}`, mem());
  }
  await server.stop();
});
