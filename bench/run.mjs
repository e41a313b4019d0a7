#!/usr/bin/env node
// `npm run bench [-- --quick] [--scenario <name>] [--readers N] [--targets …]`: starts a throwaway local server
// and the Durable Streams reference server (in-memory and file-backed) as peers, runs the scenarios on every
// target, prints the tables and writes bench/results/latest.json. See bench/README.md.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { S2Client, unaryAgent } from "./lib/client.mjs";
import { PersistInspector } from "./lib/persist.mjs";
import { refServerVersion, startRefServer } from "./lib/ref-server.mjs";
import { comparisonMarkdown, comparisonTable, comparisons, evaluateGoals, goalsMarkdown, goalsText, rowsTable } from "./lib/report.mjs";
import { killStartedSync, processGroupStats, rssSampler, runtimeSockets, startServer } from "./lib/server.mjs";
import { round } from "./lib/stats.mjs";
import { TARGET_NAMES, dsTarget, oursS2Target } from "./lib/targets.mjs";
import { scenarios } from "./scenarios/index.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");

const USAGE = `usage: npm run bench -- [options]
  --quick               small sizes, short durations (under 2 minutes)
  --scenario <name>     run only this scenario (repeatable, or comma-separated); also runs opt-in ones
  --targets <list>      comma-separated subset of ${TARGET_NAMES.join(",")} (default: all)
  --readers <n>         live readers for e2e-latency (instead of 1/10/100/1000), writer-with-idle-readers
                        (default 1000, quick 100) and sse-fanout
  --set <s>.<k>=<v>     override a scenario parameter, e.g. --set sse-fanout.rate=10 (value parsed as JSON)
  --rev <git-ref>       benchmark a committed tree (e.g. HEAD) instead of the working tree
  --out <file>          JSON results path (default bench/results/latest.json)
  --verbose             echo our server's output
  --server-log-level <l> our server's log level (default warn; e.g. info, debug)
  --list                list scenarios and exit
scenarios: ${scenarios.map((s) => `${s.name}${s.optional ? " (opt-in)" : ""}`).join(", ")}`;

function parseArgs(argv) {
  const opts = { quick: false, only: [], overrides: {}, readers: undefined, out: join(BENCH, "results/latest.json"), verbose: false, targets: [...TARGET_NAMES] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") opts.quick = true;
    else if (a === "--scenario") opts.only.push(...value().split(",").filter(Boolean));
    else if (a === "--targets") {
      opts.targets = value().split(",").filter(Boolean);
      const unknown = opts.targets.filter((t) => !TARGET_NAMES.includes(t));
      if (unknown.length > 0 || opts.targets.length === 0) throw new Error(`--targets takes ${TARGET_NAMES.join(",")}`);
    }
    else if (a === "--readers") {
      opts.readers = Number(value());
      if (!Number.isInteger(opts.readers) || opts.readers < 1 || opts.readers > 10_000) throw new Error("--readers must be 1..10000");
    } else if (a === "--out") opts.out = resolve(value());
    else if (a === "--set") {
      const m = /^([a-z0-9-]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(value());
      if (!m) throw new Error("--set wants <scenario>.<param>=<value>");
      let v;
      try { v = JSON.parse(m[3]); } catch { v = m[3]; }
      (opts.overrides[m[1]] ??= {})[m[2]] = v;
    } else if (a === "--rev") opts.rev = value();
    else if (a === "--verbose") opts.verbose = true;
    else if (a === "--server-log-level") opts.serverLogLevel = value();
    else if (a === "--list") opts.list = true;
    else if (a === "--help" || a === "-h") opts.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const name of [...opts.only, ...Object.keys(opts.overrides)]) {
    if (!scenarios.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}`);
  }
  for (const [name, set] of Object.entries(opts.overrides)) {
    const known = scenarios.find((s) => s.name === name).params({ quick: opts.quick, readers: opts.readers });
    for (const [key, v] of Object.entries(set)) {
      if (!(key in known)) throw new Error(`${name} has no parameter ${key} (has: ${Object.keys(known).join(", ")})`);
      const want = Array.isArray(known[key]) ? "array" : typeof known[key];
      const got = Array.isArray(v) ? "array" : typeof v;
      if (want !== got) throw new Error(`${name}.${key} must be a ${want} (JSON), got ${JSON.stringify(v)}`);
    }
  }
  return opts;
}

function packageVersion(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8")).version;
  } catch {
    return undefined;
  }
}

/** wrangler (which builds the bundle), and the miniflare/workerd that run it (nearest node_modules first). */
function packageVersions() {
  const find = (name, from) => {
    for (const dir of from) {
      const p = join(dir, "node_modules", name, "package.json");
      if (existsSync(p)) return { path: p, version: packageVersion(p) };
    }
    return undefined;
  };
  const wranglerDir = join(ROOT, "node_modules/wrangler");
  const miniflare = find("miniflare", [ROOT]);
  const miniflareDir = miniflare ? dirname(miniflare.path) : ROOT;
  const workerd = find("workerd", [miniflareDir, wranglerDir, ROOT]);
  return {
    wrangler: packageVersion(join(wranglerDir, "package.json")),
    miniflare: miniflare?.version,
    workerd: workerd?.version,
  };
}

function gitInfo() {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "wrangler.toml", "package.json"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
    return { commit, dirty };
  } catch {
    return undefined;
  }
}

function revCommit(rev) {
  try {
    return execFileSync("git", ["rev-parse", `${rev}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model,
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism?.(),
    memoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    node: process.version,
  };
}

const MB = 1024 * 1024;

/** Error lines the server printed since `before`: total and per distinct message (digits folded to N). */
function errorDelta(before, now) {
  const messages = {};
  for (const [k, v] of now.messages) {
    const d = v - (before.messages.get(k) ?? 0);
    if (d > 0) messages[k] = d;
  }
  return { count: now.count - before.count, messages };
}

/**
 * Waits until the server is quiet — its process group uses < `threshold` of one core over `windowMs`, and its
 * workerd processes hold at most `baselineSockets + 32` sockets (connections of the previous scenario closed) —
 * at most `maxMs`, so one scenario's leftovers do not load the next. How long that took is itself a figure.
 * Returns { seconds, cpuSeconds, socketsAtStart, sockets, quiet }.
 */
async function settle(server, baselineSockets, { threshold = 0.1, windowMs = 500, maxMs = 45_000 } = {}) {
  const t0 = performance.now();
  const first = processGroupStats(server.pid);
  if (!first) return undefined;
  const socketsAtStart = runtimeSockets(server.pid);
  let prev = first;
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = processGroupStats(server.pid);
    const busy = (now.cpuSec - prev.cpuSec) / (windowMs / 1000);
    prev = now;
    const sockets = runtimeSockets(server.pid);
    const elapsed = performance.now() - t0;
    const quiet = busy < threshold && sockets <= baselineSockets + 32;
    if (quiet || elapsed >= maxMs) {
      return { seconds: round(elapsed / 1000, 2), cpuSeconds: round(now.cpuSec - first.cpuSec, 2), socketsAtStart, sockets, quiet };
    }
  }
}

/** CPU seconds spent between two snapshots, summed per process role (pids present in both, or new ones). */
function cpuByRole(s0, s1) {
  const before = new Map(s0.processes.map((p) => [p.pid, p.cpuSec]));
  const out = {};
  for (const p of s1.processes) out[p.role] = round((out[p.role] ?? 0) + p.cpuSec - (before.get(p.pid) ?? 0), 2);
  return out;
}
const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? "-" : Number(v).toFixed(digits));

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) return console.log(USAGE);
  if (opts.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(26)} ${s.description}`);
    return;
  }
  const selected = scenarios.filter((s) => (opts.only.length === 0 ? !s.optional : opts.only.includes(s.name)));
  const mode = opts.quick ? "quick" : "full";
  const log = (msg) => console.error(`[bench] ${msg}`);

  const run = {
    schema: 1,
    mode,
    options: { quick: opts.quick, scenarios: selected.map((s) => s.name), targets: opts.targets, readers: opts.readers, overrides: opts.overrides, rev: opts.rev },
    startedAt: new Date().toISOString(),
    machine: machineInfo(),
    loadAverageBefore: os.loadavg(),
    packages: { ...packageVersions(), "@durable-streams/server": refServerVersion(ROOT) },
    git: gitInfo(),
    scenarios: [],
  };

  // Whatever happens, the server's process group goes away.
  const abort = new AbortController();
  let server;
  let refs = [];
  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping`);
    abort.abort();
    // Still starting: no handle yet, so kill whatever was spawned right away.
    const stop = server ? Promise.all([server.stop(), ...refs.map((r) => r.stop())]) : Promise.resolve(killStartedSync());
    stop.finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
    setTimeout(() => { killStartedSync(); process.exit(1); }, 10_000).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => killStartedSync());

  let exitCode = 0;
  try {
    const peerModes = ["memory", "file"].filter((m) => opts.targets.includes(`ref-${m}`));
    log(`mode ${mode}; starting our server${peerModes.length ? ` and the reference server (${peerModes.join(", ")})` : ""}`);
    const t = performance.now();
    // A root token of our own: works whether or not the server enforces auth (it ignores the header if not).
    const token = randomBytes(24).toString("hex");
    // The peers start meanwhile; each is a node process of its own, idle until its turn.
    const refsStarting = Promise.allSettled(peerModes.map((m) => startRefServer({ root: ROOT, mode: m })));
    try {
      server = await startServer({ root: ROOT, verbose: opts.verbose, logLevel: opts.serverLogLevel ?? "warn", vars: { ROOT_TOKEN: token }, rev: opts.rev });
    } finally {
      for (const r of await refsStarting) if (r.status === "fulfilled") refs.push(r.value);
    }
    const refFailure = (await refsStarting).find((r) => r.status === "rejected");
    if (refFailure) throw refFailure.reason;
    run.server = {
      startSeconds: round((performance.now() - t) / 1000),
      baseUrl: server.baseUrl,
      source: opts.rev ? { rev: opts.rev, commit: revCommit(opts.rev) } : "working tree",
      sourceSha256: server.sourceSha256,
    };
    log(`server up at ${server.baseUrl} in ${run.server.startSeconds}s`);
    const sampler = rssSampler(server.pid, 250);
    const client = new S2Client(server.baseUrl, { agent: unaryAgent(8), token });
    const basin = `bench-${randomBytes(6).toString("hex")}`;
    await client.createBasin(basin);
    let streamCounter = 0;
    const baselineSockets = runtimeSockets(server.pid);
    run.server.settleAtStart = await settle(server, baselineSockets);
    const before = processGroupStats(server.pid);
    run.server.baselineSockets = baselineSockets;

    // The targets: our server through both protocols, the reference server in both modes (same DS client).
    const inspector = new PersistInspector(join(server.workDir, "state"));
    const runTag = randomBytes(3).toString("hex");
    let currentScenario = "setup";
    const newName = (prefix) => `${currentScenario}-${prefix}-${runTag}-${++streamCounter}`;
    const allTargets = [
      oursS2Target({ server, client, basin, inspector, newName }),
      dsTarget({ name: "ours-ds", baseUrl: server.baseUrl, token, group: { pid: server.pid }, alive: () => server.alive(), ours: true, inspector, newName }),
      ...refs.map((r) => dsTarget({ name: r.name, baseUrl: r.baseUrl, token, group: { pid: r.pid }, alive: () => r.alive(), newName })),
    ];
    const targets = opts.targets.map((name) => allTargets.find((x) => x.name === name)).filter(Boolean);
    run.targets = targets.map((x) => ({
      name: x.name,
      protocol: x.protocol,
      server: x.ours ? `edgestream (miniflare ${run.packages.miniflare}, workerd ${run.packages.workerd})` : `@durable-streams/server ${run.packages["@durable-streams/server"]} (${x.name === "ref-file" ? "file-backed" : "in-memory"}, node ${process.version})`,
      baseUrl: x.ours ? server.baseUrl : refs.find((r) => r.name === x.name)?.baseUrl,
    }));
    /** After a case with many connections: wait (bounded) until the target's server is idle again. */
    const quiesce = async (target) => {
      if (target.ours) return settle(server, baselineSockets, { maxMs: opts.quick ? 2_000 : 20_000 });
      return settle({ pid: target.group.pid }, Infinity, { maxMs: opts.quick ? 2_000 : 5_000, windowMs: 300 });
    };

    for (const scenario of selected) {
      if (abort.signal.aborted) break;
      const params = { ...scenario.params({ quick: opts.quick, readers: opts.readers }), ...opts.overrides[scenario.name] };
      const limitSec = opts.quick ? 90 : 1_200;
      currentScenario = scenario.name;
      log(`${scenario.name}: ${JSON.stringify(params)}`);
      const scenarioAbort = new AbortController();
      const onAbort = () => scenarioAbort.abort();
      abort.signal.addEventListener("abort", onAbort);
      const ctx = {
        baseUrl: server.baseUrl,
        token,
        basin,
        client,
        opts,
        signal: scenarioAbort.signal,
        log,
        newStream: async (prefix) => {
          const name = `${scenario.name}-${prefix}-${++streamCounter}`;
          await client.createStream(basin, name);
          return name;
        },
        // Multi-target scenarios (lib/targets.mjs): the selected targets, any target by name, the state dir.
        targets,
        target: (name) => allTargets.find((x) => x.name === name),
        inspector,
        quiesce,
      };
      sampler.reset();
      const loadAtStart = os.loadavg().map((v) => round(v, 2));
      const errorsBefore = { count: server.errors.count, messages: new Map(server.errors.messages) };
      const s0 = processGroupStats(server.pid);
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      let result;
      let timer;
      try {
        result = await Promise.race([
          scenario.run(ctx, params),
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              scenarioAbort.abort();
              reject(new Error(`scenario exceeded its ${limitSec}s limit`));
            }, limitSec * 1000);
          }),
        ]);
      } catch (err) {
        result = { valid: false, reasons: [`error: ${err.message}`], rows: [] };
      } finally {
        clearTimeout(timer);
        abort.signal.removeEventListener("abort", onAbort);
      }
      const s1 = processGroupStats(server.pid);
      const c1 = process.cpuUsage(c0);
      const wallSeconds = (performance.now() - w0) / 1000;
      if (!server.alive()) result = { ...result, valid: false, reasons: [...(result.reasons ?? []), "the server process exited"] };
      // A workerd that was replaced mid-scenario (a crash and Miniflare's restart of it) drops every open
      // connection and the objects' memory: such a run measures the restart, not the server.
      const runtimes = (stats) => (stats?.processes ?? []).filter((p) => p.role === "workerd").map((p) => `${p.role}:${p.pid}`).sort();
      const r0 = runtimes(s0);
      const r1 = runtimes(s1);
      if (r0.join() !== r1.join()) {
        result = { ...result, valid: false, reasons: [...(result.reasons ?? []), `server runtime restarted during the scenario (${r0.join(" ")} -> ${r1.join(" ")})`] };
      }
      const entry = {
        name: scenario.name,
        description: scenario.description,
        params,
        loadAverageAtStart: loadAtStart,
        valid: Boolean(result.valid),
        reasons: result.reasons ?? [],
        wallSeconds: round(wallSeconds),
        server: s0 && s1 ? {
          // Per process, so a process replaced mid-run counts from 0 instead of making the sum negative.
          cpuSeconds: round(Object.values(cpuByRole(s0, s1)).reduce((a, b) => a + b, 0), 2),
          cpuUtilization: round(Object.values(cpuByRole(s0, s1)).reduce((a, b) => a + b, 0) / wallSeconds, 3),
          peakRssBytes: sampler.peak(),
          cpuSecondsByRole: cpuByRole(s0, s1),
        } : undefined,
        client: { cpuSeconds: round((c1.user + c1.system) / 1e6, 2) },
        serverErrorLines: errorDelta(errorsBefore, server.errors),
        rows: result.rows ?? [],
        figures: result.figures ?? {},
      };
      // An invalid result is never reported as a number: keep its figures only as diagnostics.
      if (!entry.valid) {
        entry.diagnostics = { rows: entry.rows.filter((r) => !r.valid), figures: entry.figures };
        entry.rows = entry.rows.map((r) => (r.valid ? r : { target: r.target, label: r.label, valid: false, reason: r.reason }));
        entry.figures = {};
        exitCode = 1;
      }
      // Leftovers are the scenario's own cost: wait (bounded) until the server is idle and its connections are
      // closed, and record how long that took, before the next scenario starts.
      entry.drainAfter = await settle(server, baselineSockets, { maxMs: opts.quick ? 8_000 : 45_000 });
      if (entry.drainAfter && (entry.drainAfter.seconds > 1 || !entry.drainAfter.quiet)) {
        const d = entry.drainAfter;
        log(`${scenario.name}: server idle again after ${d.seconds}s (${d.cpuSeconds} CPU s; workerd sockets ${d.socketsAtStart} -> ${d.sockets}, baseline ${baselineSockets})${d.quiet ? "" : " — gave up waiting"}`);
      }
      run.scenarios.push(entry);
      log(`${scenario.name}: ${entry.valid ? "valid" : `INVALID: ${entry.reasons.join(" | ")}`} (${entry.wallSeconds}s, server CPU ${entry.server?.cpuSeconds}s)`);
    }

    const after = processGroupStats(server.pid);
    run.server.cpuSecondsDuringScenarios = before && after ? round(after.cpuSec - before.cpuSec, 2) : undefined;
    run.server.cpuSecondsTotal = after ? round(after.cpuSec, 2) : undefined;
    run.server.peakRssBytes = sampler.overall();
    run.server.sumOfPerProcessPeakRssBytes = after?.hwmBytes;
    run.server.processes = after?.processes;
    sampler.stop();
    client.agent.destroy();
    run.peers = refs.map((r) => {
      const st = processGroupStats(r.pid);
      return { name: r.name, cpuSecondsTotal: st ? round(st.cpuSec, 2) : undefined, peakRssBytesOfLiveProcesses: st?.hwmBytes };
    });
  } catch (err) {
    exitCode = 1;
    run.error = err.message;
    console.error(`bench: ${err.message}`);
  } finally {
    if (server) {
      run.serverOutputTail = server.output().slice(-4000);
      await server.stop();
    }
    for (const r of refs) {
      const out = r.output().trim();
      if (out && out !== `ready ${r.baseUrl}`) (run.peerOutputTail ??= {})[r.name] = out.slice(-2000);
      await r.stop();
    }
  }
  run.finishedAt = new Date().toISOString();
  run.comparisons = comparisons(run.scenarios);
  run.goals = evaluateGoals(run.scenarios);
  run.loadAverageAfter = os.loadavg();
  run.clientPeakRssBytes = process.resourceUsage().maxRSS * 1024;

  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(run, null, 2)}\n`);
  if (opts.out === join(BENCH, "results/latest.json")) {
    await writeFile(join(BENCH, `results/${run.startedAt.replace(/[:.]/g, "-")}-${mode}.json`), `${JSON.stringify(run, null, 2)}\n`);
  }
  // The same comparison and targets as Markdown, next to the JSON (for README "Benchmarks").
  const m0 = run.machine;
  const md = [
    `${mode} run of ${run.startedAt}: ${m0.cpuModel} x${m0.cpuCount}, ${fmt(m0.memoryBytes / MB / 1024)} GiB, ${m0.platform}, node ${m0.node}; miniflare ${run.packages.miniflare}, workerd ${run.packages.workerd}, @durable-streams/server ${run.packages["@durable-streams/server"]}; load average ${run.loadAverageBefore.map((v) => v.toFixed(2)).join(" ")} before, ${run.loadAverageAfter.map((v) => v.toFixed(2)).join(" ")} after.`,
    "",
    comparisonMarkdown(run.comparisons, (run.targets ?? []).map((x) => x.name)),
    "",
    goalsMarkdown(run.goals),
    "",
  ].join("\n");
  await writeFile(opts.out.replace(/\.json$/, "") + ".md", md);

  const m = run.machine;
  console.log(`\nedgestream bench (${mode}) — ${m.cpuModel} x${m.cpuCount}, ${fmt(m.memoryBytes / MB / 1024)} GiB, node ${m.node}, miniflare ${run.packages.miniflare}, workerd ${run.packages.workerd}`);
  console.log(`load average before ${run.loadAverageBefore.map((v) => v.toFixed(2)).join(" ")}, after ${run.loadAverageAfter.map((v) => v.toFixed(2)).join(" ")}`);
  if (run.targets) {
    for (const x of run.targets) console.log(`  ${x.name.padEnd(10)} ${x.server}`);
  }
  if (run.scenarios.length > 0) console.log(`\n${rowsTable(run.scenarios)}\n`);
  if (run.comparisons.length > 0) {
    console.log(`side by side (ratios: ours ÷ peer; above 1 is more throughput, or more latency):\n${comparisonTable(run.comparisons, (run.targets ?? []).map((x) => x.name))}\n`);
  }
  if (run.scenarios.length > 0) console.log(`targets of the issue (measured on our server, both protocols):\n${goalsText(run.goals)}\n`);
  for (const s of run.scenarios) {
    const roles = s.server ? Object.entries(s.server.cpuSecondsByRole).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(", ") : "";
    const srv = s.server ? `our server CPU ${fmt(s.server.cpuSeconds, 2)}s (${fmt(s.server.cpuUtilization * 100, 0)}% of one core: ${roles}), peak RSS ${fmt(s.server.peakRssBytes / MB, 0)} MiB` : "";
    console.log(`${s.name}: ${s.valid ? "valid" : "INVALID"} in ${fmt(s.wallSeconds)}s; ${srv}; client CPU ${fmt(s.client.cpuSeconds, 2)}s`);
    if (!s.valid) for (const r of s.reasons) console.log(`  INVALID: ${r}`);
    if (s.serverErrorLines?.count > 0) {
      console.log(`  server printed ${s.serverErrorLines.count} error lines:`);
      for (const [msg, n] of Object.entries(s.serverErrorLines.messages).sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`    ${n}x ${msg}`);
    }
    const d = s.drainAfter;
    if (d && (d.seconds > 1 || !d.quiet)) console.log(`  afterwards the server needed ${fmt(d.seconds)}s to go idle (workerd sockets ${d.socketsAtStart} -> ${d.sockets}, baseline ${run.server.baselineSockets})${d.quiet ? "" : ", and still was not"}`);
    for (const [name, f] of Object.entries(s.figures ?? {})) {
      if (f?.throughputRatio !== undefined) console.log(`  [${name}] throughput ratio with idle readers / without: ${f.throughputRatio}`);
    }
  }
  if (run.error && run.serverOutputTail) console.log(`\n--- server output (tail) ---\n${run.serverOutputTail}`);
  console.log(`\nresults: ${opts.out}`);
  process.exitCode = exitCode;
}

await main();
