// The local server: the worker bundle that `wrangler deploy` would ship, run by Miniflare (workerd, SQLite-backed
// Durable Objects and a local R2 bucket, state on disk) in this process. Used by `npm start`, the e2e tests and
// the bench. `wrangler dev` would also work, but it puts a dev-only ProxyWorker (a second workerd, for hot
// reloads) in front of the worker: every request and every streamed byte crossed it, which cost about 40 % of
// batch-100 append throughput and a quarter of the server CPU of SSE fan-out.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

/** Env for the wrangler build: nothing may reach the network. */
function offlineEnv() {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
}

/** A loopback port nothing listens on now (for the worker behind a front, or a bench server). */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/**
 * Bundles the worker as `wrangler deploy` would (`--dry-run --outdir`) and returns the bundle's entry file.
 * `onChild` gets the build process (own process group) so an interrupted start can kill it.
 */
export async function buildWorker({ root, configPath, outDir, onChild = () => {}, timeoutMs = 60_000 }) {
  const args = [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outDir, "--config", configPath];
  const output = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: offlineEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    onChild(child);
    let text = "";
    child.stdout.on("data", (c) => { text += c; });
    child.stderr.on("data", (c) => { text += c; });
    const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`wrangler could not build the worker (exit ${code}):\n${text.slice(-4000)}`));
    });
  });
  const entry = join(outDir, "worker.js");
  if (!existsSync(entry)) throw new Error(`the build produced no ${entry}:\n${output.slice(-2000)}`);
  return entry;
}

const LOG_LEVELS = { none: LogLevel.NONE, error: LogLevel.ERROR, warn: LogLevel.WARN, info: LogLevel.INFO, debug: LogLevel.DEBUG };

/**
 * Runs `bundle` (from buildWorker) with the bindings, Durable Objects and compatibility settings of
 * `configPath` (wrangler.toml), `vars` on top of its [vars]. State goes under `persistTo/v3`, the layout
 * `wrangler dev --persist-to` uses, so either can open the other's data. Resolves once it serves.
 */
export async function runWorker({ configPath, bundle, host = "127.0.0.1", port, persistTo, vars = {}, inspectorPort, logLevel = "warn" }) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  // The bundle is self-contained: the config's source settings (root, module rules for src/) do not apply.
  const { rootPath, modulesRules, ...settings } = workerOptions;
  const defined = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  const level = LOG_LEVELS[logLevel];
  if (level === undefined) throw new Error(`unknown log level ${logLevel} (one of ${Object.keys(LOG_LEVELS).join(", ")})`);
  const miniflare = new Miniflare(convertV4MiniflareOptions({
    ...defined,
    name: "edgestream",
    modules: true,
    scriptPath: bundle,
    modulesRoot: join(bundle, ".."),
    bindings: { ...workerOptions.bindings, ...vars },
    host,
    port,
    inspectorPort,
    resourcePersistencePath: join(persistTo, "v3"),
    // No Request.cf download: there is no network, and nothing here reads it.
    cf: false,
    log: new Log(level),
  }));
  const url = await miniflare.ready;
  return { url, close: () => miniflare.dispose() };
}
