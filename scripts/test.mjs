// `npm test`: typecheck, every vitest project, and an offline deploy build; one summary line at the end.
// Extra arguments go to vitest, e.g. `npm test -- --project e2e`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDir = join(root, "test-results");
const vitestJson = join(resultsDir, "vitest.json");

// Nothing in the test run may reach the network: no telemetry, no update check, no Request.cf download.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

/** Runs a JS CLI on this Node (npm put Node 24 first on PATH; the system Node is too old). */
function run(label, script, args) {
  console.log(`\n=== edgestream: ${label} ===`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { cwd: root, env, stdio: "inherit" });
    child.on("error", (err) => {
      console.error(`${label}: could not start: ${err.message}`);
      done(1);
    });
    child.on("exit", (code, signal) => done(signal ? 1 : (code ?? 1)));
  });
}

const steps = [];

const tscCode = await run("typecheck (tsc --noEmit)", "node_modules/typescript/bin/tsc", ["--noEmit", "-p", "tsconfig.json"]);
steps.push({ name: "typecheck", ok: tscCode === 0 });

mkdirSync(resultsDir, { recursive: true });
rmSync(vitestJson, { force: true });
const vitestCode = await run("vitest (unit, workers, e2e)", "node_modules/vitest/vitest.mjs", [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${vitestJson}`,
  ...process.argv.slice(2),
]);
const tests = countVitest(vitestCode);

const outDir = mkdtempSync(join(tmpdir(), "edgestream-dry-run-"));
const dryRunCode = await run("wrangler deploy --dry-run", "node_modules/wrangler/bin/wrangler.js", [
  "deploy",
  "--dry-run",
  "--outdir",
  outDir,
  "--config",
  join(root, "wrangler.toml"),
]);
rmSync(outDir, { recursive: true, force: true });
steps.push({ name: "deploy dry-run", ok: dryRunCode === 0 });

const passed = tests.passed + steps.filter((s) => s.ok).length;
const failed = tests.failed + steps.filter((s) => !s.ok).length;

console.log("\n=== edgestream: summary ===");
for (const s of steps) console.log(`${s.ok ? "PASS" : "FAIL"}  ${s.name}`);
console.log(`${tests.failed === 0 && vitestCode === 0 ? "PASS" : "FAIL"}  vitest: ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped (exit ${vitestCode})`);
for (const name of tests.failures.slice(0, 50)) console.log(`  ✗ ${name}`);
if (tests.failures.length > 50) console.log(`  … and ${tests.failures.length - 50} more (see ${vitestJson})`);
console.log(`edgestream: ${passed} passed, ${failed} failed${tests.skipped ? `, ${tests.skipped} skipped` : ""}`);
process.exitCode = failed === 0 ? 0 : 1;

/**
 * Counts from vitest's JSON report. A file that fails to load has no test results, so it counts as one
 * failure; a non-zero exit with nothing counted (crash, missing report) also counts as one.
 */
function countVitest(exitCode) {
  const out = { passed: 0, failed: 0, skipped: 0, failures: [] };
  if (!existsSync(vitestJson)) {
    out.failed = 1;
    out.failures.push(`vitest produced no report (exit ${exitCode})`);
    return out;
  }
  const report = JSON.parse(readFileSync(vitestJson, "utf8"));
  for (const file of report.testResults ?? []) {
    const rel = file.name ? file.name.replace(`${root}/`, "") : "?";
    const assertions = file.assertionResults ?? [];
    for (const a of assertions) {
      if (a.status === "passed") out.passed++;
      else if (a.status === "failed") {
        out.failed++;
        out.failures.push([rel, ...(a.ancestorTitles ?? []), a.title].join(" > "));
      } else out.skipped++;
    }
    if (file.status === "failed" && !assertions.some((a) => a.status === "failed")) {
      out.failed++;
      out.failures.push(`${rel} (file failed: ${String(file.message ?? "").split("\n")[0]})`);
    }
  }
  if (exitCode !== 0 && out.failed === 0) {
    out.failed = 1;
    out.failures.push(`vitest exited with ${exitCode} without failed tests (setup/teardown error?)`);
  }
  return out;
}
