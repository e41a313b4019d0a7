// `npm run history -- --minutes N [--scale S] [--seed X]`: the history checker's e2e run
// (test/e2e/history.test.ts) for N minutes instead of the short run `npm test` makes, with S times as many
// clients of each kind. The seed replays a run's random choices (client timing still varies).
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { minutes: { type: "string", default: "5" }, scale: { type: "string", default: "1" }, seed: { type: "string" } },
});
if (!(Number(values.minutes) > 0) || !(Number(values.scale) > 0)) {
  console.error("--minutes and --scale must be positive numbers");
  process.exit(2);
}

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  EDGESTREAM_HISTORY_MINUTES: values.minutes,
  EDGESTREAM_HISTORY_SCALE: values.scale,
  ...(values.seed ? { EDGESTREAM_HISTORY_SEED: values.seed } : {}),
};
const args = [join(root, "node_modules/vitest/vitest.mjs"), "run", "--project", "e2e", "test/e2e/history.test.ts"];
const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
