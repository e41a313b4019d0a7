// `npm start`: the worker under `wrangler dev`, offline, with state kept on disk between runs.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.EDGESTREAM_HOST || "127.0.0.1";
const port = process.env.EDGESTREAM_PORT || "8787";
const dataDir = resolve(root, process.env.EDGESTREAM_DATA_DIR || ".wrangler/state");
// Locally the root token is a documented default; on Cloudflare it is the ROOT_TOKEN secret.
const rootToken = process.env.EDGESTREAM_ROOT_TOKEN || "edgestream-local-root-token";
const anonymousAccess = process.env.EDGESTREAM_ANONYMOUS_ACCESS || "none";

const args = [
  join(root, "node_modules/wrangler/bin/wrangler.js"),
  "dev",
  "--config", join(root, "wrangler.toml"),
  "--ip", host,
  "--port", port,
  "--persist-to", dataDir,
  "--show-interactive-dev-session=false",
  "--var", `ROOT_TOKEN:${rootToken}`,
  "--var", `ANONYMOUS_ACCESS:${anonymousAccess}`,
  ...process.argv.slice(2),
];

// No network besides the client's own traffic: no telemetry, no update check, no Request.cf download.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

// process.execPath is the Node 24 that npm put first on PATH; the system Node is too old for wrangler.
const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on("error", (err) => {
  console.error(`edgestream: failed to start wrangler: ${err.message}`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  // Mirror a signal death the conventional way (128 + n) so callers see why it stopped.
  if (signal) {
    const numbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
    process.exit(128 + (numbers[signal] ?? 1));
  }
  process.exit(code ?? 1);
});
