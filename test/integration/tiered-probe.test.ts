import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it } from "vitest";
import { appendOk, createBasin, createStream, env, streamObject, uniqueBasin, uniqueStream } from "./helpers";

it("probe", { timeout: 30_000 }, async () => {
  const basin = uniqueBasin("probe");
  await createBasin(basin);
  const stream = uniqueStream();
  await createStream(basin, stream);
  const stub = streamObject(basin, stream);
  for (let i = 0; i < 8; i++) await appendOk(basin, stream, [`r${i}`.padEnd(1000, "x")]);
  await runDurableObjectAlarm(stub);
  const listed = await env.SEGMENTS.list();
  console.log("keys", listed.objects.map((o) => o.key), "id", stub.id.toString());
  expect(true).toBe(true);
});
