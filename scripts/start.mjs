// `npm start`: the worker bundle on Miniflare (scripts/local-server.mjs), offline, with state kept on disk between
// runs, behind a small front (local-front.mjs) that answers HTTP/1.1 and h2c on the public port, so that HTTP/2
// clients such as the S2 TypeScript SDK in Node work with default settings. Miniflare listens on a loopback port
// of its own. Options: `--var NAME:VALUE` (repeatable; over wrangler.toml's [vars]), `--inspector-port N`,
// `--log-level none|error|warn|info|debug`.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startFront } from "./local-front.mjs";
import { buildWorker, freePort, runWorker } from "./local-server.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.EDGESTREAM_HOST || "127.0.0.1";
const port = process.env.EDGESTREAM_PORT || "8787";
const dataDir = resolve(root, process.env.EDGESTREAM_DATA_DIR || ".wrangler/state");
// Locally the root token is a documented default; on Cloudflare it is the ROOT_TOKEN secret.
const rootToken = process.env.EDGESTREAM_ROOT_TOKEN || "edgestream-local-root-token";
const anonymousAccess = process.env.EDGESTREAM_ANONYMOUS_ACCESS || "none";

const { values: options } = parseArgs({
  options: {
    var: { type: "string", multiple: true, default: [] },
    "inspector-port": { type: "string" },
    "log-level": { type: "string", default: "warn" },
  },
});
const vars = { ROOT_TOKEN: rootToken, ANONYMOUS_ACCESS: anonymousAccess };
for (const assignment of options.var) {
  const colon = assignment.indexOf(":");
  if (colon <= 0) fail(`--var takes NAME:VALUE, got ${assignment}`);
  vars[assignment.slice(0, colon)] = assignment.slice(colon + 1);
}

function fail(message) {
  console.error(`edgestream: ${message}`);
  process.exit(1);
}

const configPath = join(root, "wrangler.toml");
// Next to the state it serves, rebuilt on every start: nothing piles up when a server is killed, and two
// servers never share a bundle unless they share (and would fight over) the state.
const buildDir = join(dataDir, "bundle");
let worker;
let front;
const shutdown = async (code) => {
  await front?.close();
  await worker?.close().catch(() => {});
  process.exit(code);
};
// Exit as a death by that signal conventionally reads (128 + n), so callers see why it stopped.
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
for (const [signal, number] of Object.entries(SIGNAL_NUMBERS)) process.on(signal, () => void shutdown(128 + number));

try {
  const bundle = await buildWorker({ root, configPath, outDir: buildDir });
  // A loopback port of its own: the public port belongs to the front.
  const upstream = { host: "127.0.0.1", port: Number(process.env.EDGESTREAM_UPSTREAM_PORT || (await freePort())) };
  worker = await runWorker({
    configPath,
    bundle,
    host: upstream.host,
    port: upstream.port,
    persistTo: dataDir,
    vars,
    inspectorPort: options["inspector-port"] === undefined ? undefined : Number(options["inspector-port"]),
    logLevel: options["log-level"],
  });
  front = await startFront({ host, port: Number(port), upstream, log: (line) => console.error(`edgestream front: ${line}`) });
  console.log(`edgestream: http://${host}:${front.port} (HTTP/1.1 and h2c) → worker on ${upstream.host}:${upstream.port}, state in ${dataDir}`);
} catch (err) {
  console.error(`edgestream: cannot start: ${err.message}`);
  await shutdown(1);
}
