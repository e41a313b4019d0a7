// Starts a throwaway server for black-box tests, exactly as `npm start` runs (scripts/start.mjs: the HTTP/1.1 +
// h2c front on the public port, the worker on Miniflare behind it), with its own ports and its own empty state
// directory.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_ROOT_TOKEN } from "./auth";

export const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The e2e server's Durable Streams long-poll timeout: the conformance suite waits for a long-poll's 204
 * within vitest's default 5 s, so the server must give up well before that.
 */
export const E2E_DS_LONG_POLL_TIMEOUT_MS = 1000;

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export interface DevServer {
  baseUrl: string;
  port: number;
  /** The state directory (`--persist-to`); kept by `kill`, removed by `stop` unless it was given. */
  dataDir: string;
  /** Process group of the server: start.mjs (the front and Miniflare) and workerd. */
  pid: number;
  /** workerd's inspector (Chrome DevTools protocol) for the worker: heap usage, forced GC. */
  inspectorPort: number;
  stop(): Promise<void>;
  /** Kills the whole process group with `signal` and waits until every process of it is gone; the data stays. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface DevServerOptions {
  timeoutMs?: number;
  /** Reuse this state directory (e.g. after a crash); by default a fresh one is made and removed on stop. */
  dataDir?: string;
  /** Listen on this port (e.g. the one a killed server had); by default a free one. */
  port?: number;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const port = options.port ?? await freePort();
  const inspectorPort = await freePort();
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), "edgestream-e2e-"));
  // start.mjs's documented options and environment.
  const args = [
    join(ROOT, "scripts/start.mjs"),
    "--inspector-port", String(inspectorPort),
    "--log-level", process.env.EDGESTREAM_E2E_LOG_LEVEL ?? "warn",
    "--var", `DS_LONG_POLL_TIMEOUT_MS:${E2E_DS_LONG_POLL_TIMEOUT_MS}`,
    // Durable Streams subscriptions on, with plain-http webhooks to 127.0.0.1 (the suite's receivers).
    "--var", "DS_SUBSCRIPTIONS:local",
  ];
  // process.execPath: vitest runs on the project's Node 24, which wrangler and Miniflare need.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      EDGESTREAM_HOST: "127.0.0.1",
      EDGESTREAM_PORT: String(port),
      EDGESTREAM_DATA_DIR: dataDir,
      EDGESTREAM_ROOT_TOKEN: TEST_ROOT_TOKEN,
      EDGESTREAM_ANONYMOUS_ACCESS: "none",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (process.env.EDGESTREAM_E2E_VERBOSE) process.stderr.write(chunk);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await kill(child);
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, timeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- server output ---\n${output}`);
  }
  return { baseUrl, port, dataDir, pid: child.pid!, inspectorPort, stop, kill: (signal) => kill(child, signal) };
}

async function waitForHealth(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no response";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start (scripts/start.mjs) exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server did not answer GET /health with 200 within ${timeoutMs} ms (last: ${last})`);
}

async function kill(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  // The whole process group: start.mjs runs Miniflare, which forks workerd; either could outlive us and hold a port.
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signalGroup(signal);
  const timer = setTimeout(() => signalGroup("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
  // The leader's exit does not wait for the rest of its group.
  if (signal === "SIGKILL") await waitForGroupExit(child.pid);
}

/** Until no process of the group is left (signal 0 probes without delivering anything). */
async function waitForGroupExit(pgid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process group ${pgid} still alive ${timeoutMs} ms after SIGKILL`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
