// Starts a throwaway local server (scripts/local-server.mjs: the worker bundle on Miniflare, as `npm start` runs
// it, without the h2c front) on its own free port and temp state dir, from a bundle built once from a snapshot of
// the sources, and watches its process tree.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWorker, freePort } from "../../scripts/local-server.mjs";

const CLK_TCK = 100; // Linux USER_HZ; /proc reports utime/stime in these ticks.
const PAGE_SIZE = 4096;

/** Synchronous killers of every server this process started and has not stopped yet (see killStartedSync). */
const started = new Set();

/** SIGKILLs the process group of every server started here that is still up; for signal/exit handlers. */
export function killStartedSync() {
  for (const kill of [...started]) kill();
}

/** Registers a synchronous killer of another started process (a peer server) for killStartedSync; returns its removal. */
export function trackStarted(killSync) {
  started.add(killSync);
  return () => started.delete(killSync);
}

/** Files the worker is built from. */
const SNAPSHOT = ["src", "wrangler.toml", "package.json", "tsconfig.json"];

/**
 * Copies the worker's sources into `dir` (node_modules symlinked) and returns a sha256 over what was copied,
 * so a result can be tied to the exact code that ran.
 */
async function snapshotProject(root, dir, rev) {
  await mkdir(dir, { recursive: true });
  if (rev) {
    // A committed tree instead of the working tree: `git archive <rev> <paths> | tar -x`.
    const present = SNAPSHOT.filter((entry) => {
      try {
        execFileSync("git", ["cat-file", "-e", `${rev}:${entry}`], { cwd: root, stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    });
    const archive = execFileSync("git", ["archive", "--format=tar", rev, ...present], { cwd: root, maxBuffer: 256 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
  } else {
    for (const entry of SNAPSHOT) {
      if (existsSync(join(root, entry))) await cp(join(root, entry), join(dir, entry), { recursive: true });
    }
  }
  await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  const hash = createHash("sha256");
  const walk = async (rel) => {
    const abs = join(dir, rel);
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => undefined);
    if (!entries) {
      hash.update(`${rel}\0`);
      hash.update(await readFile(abs));
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) await walk(join(rel, e.name));
  };
  for (const entry of SNAPSHOT) if (existsSync(join(dir, entry))) await walk(entry);
  return hash.digest("hex");
}

/**
 * Builds the snapshot's bundle and runs it in a child process (lib/server-main.mjs) in its own process group, so
 * workerd, which Miniflare forks, can be killed with it. Returns { baseUrl, pid, stop(), stopSync(), output() };
 * stop() is idempotent.
 */
export async function startServer({ root, logLevel = "warn", timeoutMs = 90_000, verbose = false, vars = {}, rev }) {
  const port = await freePort();
  const workDir = await mkdtemp(join(tmpdir(), "edgestream-bench-"));
  const projectDir = join(workDir, "project");
  const dataDir = join(workDir, "state");
  let sourceSha256;
  let bundle;
  // Until the server runs, an interrupted start only leaves the temp dir (and maybe a short-lived build) behind.
  let build;
  const removeWorkDir = () => {
    started.delete(removeWorkDir);
    if (build?.pid !== undefined && build.exitCode === null && build.signalCode === null) {
      try { process.kill(-build.pid, "SIGKILL"); } catch { /* gone */ }
    }
    try { rmSync(workDir, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  started.add(removeWorkDir);
  try {
    sourceSha256 = await snapshotProject(root, projectDir, rev);
    bundle = await buildWorker({
      root: projectDir,
      configPath: join(projectDir, "wrangler.toml"),
      outDir: join(projectDir, "dist"),
      onChild: (child) => { build = child; },
    });
  } catch (err) {
    removeWorkDir();
    throw err;
  }
  started.delete(removeWorkDir);
  const settings = { configPath: join(projectDir, "wrangler.toml"), bundle, port, persistTo: dataDir, vars, logLevel };
  const child = spawn(process.execPath, [join(import.meta.dirname, "server-main.mjs"), JSON.stringify(settings)], {
    cwd: projectDir,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  // Error lines the server prints (console.error in the worker, uncaught exceptions, workerd errors), counted
  // with their distinct messages so a run can report what the server complained about.
  const errors = { count: 0, messages: new Map() };
  let partial = "";
  const keep = (chunk) => {
    const text = chunk.toString();
    output = (output + text).slice(-50_000);
    if (verbose) process.stderr.write(chunk);
    const lines = (partial + text).split("\n");
    partial = lines.pop();
    for (const raw of lines) {
      const line = raw.replace(/\x1b\[[0-9;]*m/g, "");
      if (!/\[ERROR\]|^\s*✘|uncaught|exception =/i.test(line)) continue;
      errors.count += 1;
      const key = line.replace(/^.*?\[ERROR\]\s*/, "").replace(/\d+/g, "N").trim().slice(0, 200);
      if (errors.messages.size < 50 || errors.messages.has(key)) errors.messages.set(key, (errors.messages.get(key) ?? 0) + 1);
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let spawnError;
  child.once("error", (err) => { spawnError = err; });

  const alive = () => child.exitCode === null && child.signalCode === null;
  const signalGroup = (sig) => {
    try { process.kill(-child.pid, sig); } catch { /* already gone */ }
  };
  let stopping;
  let stopped = false;
  const stop = () => {
    stopping ??= (async () => {
      if (child.pid !== undefined && alive()) {
        signalGroup("SIGTERM");
        const timer = setTimeout(() => signalGroup("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      // workerd may outlive its Miniflare host briefly; make sure nothing of the group is left.
      if (child.pid !== undefined) signalGroup("SIGKILL");
      await rm(workDir, { recursive: true, force: true });
      stopped = true;
      started.delete(stopSync);
    })();
    return stopping;
  };
  /** Last resort from a synchronous 'exit' handler. */
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    started.delete(stopSync);
    if (child.pid !== undefined) signalGroup("SIGKILL");
    try { rmSync(workDir, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  started.add(stopSync);

  const baseUrl = `http://127.0.0.1:${port}`;
  const server = { baseUrl, port, pid: child.pid, workDir, sourceSha256, errors, stop, stopSync, output: () => output, alive };
  try {
    const deadline = Date.now() + timeoutMs;
    let last = "no response";
    for (;;) {
      if (spawnError) throw new Error(`failed to start the server: ${spawnError.message}`);
      if (!alive()) throw new Error(`the server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
      if (Date.now() > deadline) throw new Error(`no 200 from GET /health within ${timeoutMs} ms (last: ${last})`);
      try {
        const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
        last = `status ${res.status}`;
      } catch (err) {
        last = err.message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n--- server output ---\n${output}`);
  }
  return server;
}

/** What a process of the group is: the Miniflare host (node), esbuild, or the workerd running our worker. */
function roleOf(pid, comm) {
  let cmd = "";
  try { cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "); } catch { /* gone */ }
  if (cmd.includes("esbuild")) return "esbuild";
  if (cmd.includes("ref-server-main")) return "ref-server";
  if (cmd.includes("workerd")) return "workerd";
  if (cmd.includes("server-main")) return "miniflare";
  return comm;
}

/** CPU seconds and RSS of every live process in the group `pgid` (Miniflare + workerd), from /proc. */
export function processGroupStats(pgid) {
  const procs = [];
  let entries;
  try { entries = readdirSync("/proc"); } catch { return undefined; }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${entry}/stat`, "utf8"); } catch { continue; }
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const rest = stat.slice(close + 2).split(" ");
    // rest[0] is field 3 (state); field n is rest[n - 3].
    if (Number(rest[2]) !== pgid) continue;
    let hwmKiB = 0;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      hwmKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch { /* exited meanwhile */ }
    procs.push({
      pid: Number(entry),
      comm,
      role: roleOf(entry, comm),
      cpuSec: (Number(rest[11]) + Number(rest[12])) / CLK_TCK,
      rssBytes: Number(rest[21]) * PAGE_SIZE,
      hwmBytes: hwmKiB * 1024,
    });
  }
  return {
    cpuSec: procs.reduce((s, p) => s + p.cpuSec, 0),
    rssBytes: procs.reduce((s, p) => s + p.rssBytes, 0),
    hwmBytes: procs.reduce((s, p) => s + p.hwmBytes, 0),
    processes: procs.map(({ pid, comm, role, cpuSec, rssBytes }) => ({ pid, comm, role, cpuSec, rssBytes })),
  };
}

/** Open sockets held by the group's workerd processes (client connections, proxy hops, WebSockets). */
export function runtimeSockets(pgid) {
  const stats = processGroupStats(pgid);
  let n = 0;
  for (const p of stats?.processes ?? []) {
    if (p.role !== "workerd") continue;
    let fds = [];
    try { fds = readdirSync(`/proc/${p.pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      try { if (readlinkSync(`/proc/${p.pid}/fd/${fd}`).startsWith("socket:")) n += 1; } catch { /* closed meanwhile */ }
    }
  }
  return n;
}

/** Samples the group's summed RSS every `everyMs`; peak() since the last reset(). */
export function rssSampler(pgid, everyMs = 200) {
  let peak = 0;
  let overall = 0;
  const sample = () => {
    const stats = processGroupStats(pgid);
    if (!stats) return;
    peak = Math.max(peak, stats.rssBytes);
    overall = Math.max(overall, stats.rssBytes);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    reset() { sample(); peak = 0; sample(); },
    peak() { sample(); return peak; },
    overall() { sample(); return overall; },
    stop() { clearInterval(timer); },
  };
}
