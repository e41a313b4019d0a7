import { it } from "vitest";
import { startDevServer } from "../support/wrangler";
it("inspector", { timeout: 120_000 }, async () => {
  const server = await startDevServer();
  const list = await (await fetch(`http://127.0.0.1:${server.inspectorPort}/json`)).json();
  console.log(JSON.stringify(list, null, 1));
  for (const target of list) {
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((r) => ws.addEventListener("open", r));
    let id = 0;
    const call = (method: string, params = {}) => new Promise<any>((resolve) => {
      const my = ++id;
      const on = (e: MessageEvent) => { const m = JSON.parse(String(e.data)); if (m.id === my) { ws.removeEventListener("message", on); resolve(m); } };
      ws.addEventListener("message", on);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
    console.log(target.title, JSON.stringify(await call("Runtime.getHeapUsage")));
    console.log("gc", JSON.stringify(await call("HeapProfiler.collectGarbage")));
    console.log(target.title, JSON.stringify(await call("Runtime.getHeapUsage")));
    ws.close();
  }
  await server.stop();
});
