import { exports } from "cloudflare:workers";
import { it, expect } from "vitest";
import { fetchClients } from "../history/clients";
import { createDsStream } from "../history/ds-clients";
import type { Target } from "../history/wire";
import { describeRun, runWorkload } from "../history/workload";
import { TEST_ROOT_TOKEN } from "../support/auth";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;

it("scratch", { timeout: 60_000 }, async () => {
  const t: Target = { fetch: (path, init) => worker.fetch(`http://localhost${path}`, init), token: TEST_ROOT_TOKEN, basin: "durable-streams", stream: "scratch1" };
  await createDsStream(t);
  const kinds = (process.env.KINDS ?? "").split(",").filter(Boolean);
  const clients = fetchClients(1, { durableStreams: true }).filter((c) => kinds.length === 0 || kinds.includes(c.kind));
  console.log("clients", clients.map((c) => c.kind).join(","));
  const result = await runWorkload({ target: t, durationMs: 3000, clients, log: (l) => console.log(l) });
  console.log(describeRun(result));
  expect(result.check.violations).toEqual([]);
});
