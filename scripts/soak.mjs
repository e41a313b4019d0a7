// `npm run soak -- --minutes N [--followers F] [--rate R]`: the bounded soak (test/soak/soak.test.ts) against
// a dedicated local server: steady appends (R per second, default 5) and F followers (default 100) for N
// minutes (default 5); the history checker must pass and the server's memory stay bounded. Figures are printed
// and written to bench/results/soak-*.json.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" }, followers: { type: "string", default: "100" }, rate: { type: "string", default: "5" },
    // Follower kinds and shares, e.g. `sse=0.5,s2s=0.5` (test/soak/soak.test.ts has the default mix).
    mix: { type: "string" },
  },
});
for (const [name, value] of Object.entries(values).filter(([name]) => name !== "mix")) {
  if (!(Number(value) > 0)) {
    console.error(`--${name} must be a positive number, got ${value}`);
    process.exit(2);
  }
}

const env = {
  ...process.env,
  EDGESTREAM_SOAK_MINUTES: values.minutes,
  EDGESTREAM_SOAK_FOLLOWERS: values.followers,
  EDGESTREAM_SOAK_RATE: values.rate,
  ...(values.mix ? { EDGESTREAM_SOAK_MIX: values.mix } : {}),
};
const child = spawn(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", join(root, "test/soak/vitest.config.ts")], { cwd: root, env, stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
