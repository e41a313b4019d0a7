// Starts the Durable Streams reference server (`@durable-streams/server`) as a peer to compare against:
// in-memory or file-backed, in a child node process of its own (own process group, so its CPU and memory are
// measured apart from ours and from the client), on a free loopback port, with a temp data dir.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/local-server.mjs";
import { trackStarted } from "./server.mjs";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "ref-server-main.mjs");

/** The installed reference server's version (node_modules/@durable-streams/server/package.json). */
export function refServerVersion(root) {
  const p = join(root, "node_modules/@durable-streams/server/package.json");
  try { return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")).version : undefined; } catch { return undefined; }
}

/**
 * mode "memory" | "file". Resolves { name, mode, baseUrl, port, pid, dataDir, alive(), output(), stop() } once
 * the server printed `ready`. stop() is idempotent and removes the data dir.
 */
export async function startRefServer({ root, mode, longPollMs = 20_000, timeoutMs = 30_000 }) {
  const port = await freePort();
  const workDir = await mkdtemp(join(tmpdir(), `edgestream-bench-ref-${mode}-`));
  const dataDir = mode === "file" ? join(workDir, "data") : undefined;
  const args = [MAIN, "--port", String(port), "--long-poll-ms", String(longPollMs), ...(dataDir ? ["--data-dir", dataDir] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, NODE_ENV: "production" } });
  let output = "";
  const keep = (c) => { output = (output + c).slice(-20_000); };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const kill = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    untrack();
    kill("SIGKILL");
    try { rmSync(workDir, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  const untrack = trackStarted(stopSync);
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (alive()) {
        kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), 4_000);
        await exited;
        clearTimeout(timer);
      }
      kill("SIGKILL");
      await rm(workDir, { recursive: true, force: true });
      stopped = true;
      untrack();
    })();
    return stopping;
  };
  const deadline = Date.now() + timeoutMs;
  while (!/^ready /m.test(output)) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`reference server (${mode}) did not start: ${alive() ? "timeout" : `exit ${child.exitCode}`}\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: `ref-${mode}`, mode, baseUrl: `http://127.0.0.1:${port}`, port, pid: child.pid, dataDir,
    alive, output: () => output, stop,
  };
}
