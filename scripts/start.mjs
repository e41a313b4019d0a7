// `npm start`: the worker under `wrangler dev`, offline, with state kept on disk between runs, behind a small
// front (local-front.mjs) that answers HTTP/1.1 and h2c on the public port, so that HTTP/2 clients such as the
// S2 TypeScript SDK in Node work with default settings. wrangler itself listens on a loopback port of its own.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startFront } from "./local-front.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.EDGESTREAM_HOST || "127.0.0.1";
const port = process.env.EDGESTREAM_PORT || "8787";
const dataDir = resolve(root, process.env.EDGESTREAM_DATA_DIR || ".wrangler/state");
// Locally the root token is a documented default; on Cloudflare it is the ROOT_TOKEN secret.
const rootToken = process.env.EDGESTREAM_ROOT_TOKEN || "edgestream-local-root-token";
const anonymousAccess = process.env.EDGESTREAM_ANONYMOUS_ACCESS || "none";

/** A free loopback port for wrangler (the public port belongs to the front). */
function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => ok(address.port));
    });
  });
}

const upstream = { host: "127.0.0.1", port: Number(process.env.EDGESTREAM_UPSTREAM_PORT || (await freePort())) };

const args = [
  join(root, "node_modules/wrangler/bin/wrangler.js"),
  "dev",
  "--config", join(root, "wrangler.toml"),
  "--ip", upstream.host,
  "--port", String(upstream.port),
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

let front;
try {
  front = await startFront({ host, port: Number(port), upstream, log: (line) => console.error(`edgestream front: ${line}`) });
} catch (err) {
  console.error(`edgestream: cannot listen on ${host}:${port}: ${err.message}`);
  child.kill("SIGTERM");
  process.exit(1);
}
console.log(`edgestream: http://${host}:${front.port} (HTTP/1.1 and h2c) → wrangler dev on ${upstream.host}:${upstream.port}`);

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    void front.close();
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on("error", (err) => {
  console.error(`edgestream: failed to start wrangler: ${err.message}`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  void front?.close();
  // Mirror a signal death the conventional way (128 + n) so callers see why it stopped.
  if (signal) {
    const numbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
    process.exit(128 + (numbers[signal] ?? 1));
  }
  process.exit(code ?? 1);
});
