// What a run prints and keeps: the per-row table, the side-by-side comparison (each figure per target and the
// ratio ours ÷ peer), and the issue's targets checked against the figures (met / missed / not measured).
const MB = 1024 * 1024;
export const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? "-" : Number(v).toFixed(digits));

function render(header, lines, right) {
  const rows = [header, ...lines];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? "").length)));
  const line = (r) => r.map((cell, c) => (right.has(c) ? String(cell ?? "").padStart(widths[c]) : String(cell ?? "").padEnd(widths[c]))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(line)].join("\n");
}

function notesOf(r) {
  const notes = [];
  if (r.extra?.saturated) notes.push(`saturated: ${fmt(r.recordsPerSec, 0)} of ${r.extra.targetRate}/s`);
  if (r.extra?.readersCompleted !== undefined) notes.push(`${r.extra.readersCompleted}/${r.extra.readers} readers complete`);
  if (r.extra?.rate !== undefined && r.latencyKind === "e2e") notes.push(`writer ${r.extra.rate}/s`);
  if (r.extra?.ratioVsNoReaders !== undefined) notes.push(`ratio vs 0 readers ${r.extra.ratioVsNoReaders} (baselines differ ${fmt(r.extra.baselineSpread * 100, 0)}%)`);
  if (r.extra?.ackLatency) notes.push(`ack p50 ${fmt(r.extra.ackLatency.p50)} p99 ${fmt(r.extra.ackLatency.p99)}`);
  if (r.extra?.segments !== undefined) notes.push(`${r.extra.segments} segments, tail ${fmt(r.extra.tailBytes / MB, 1)} MiB`);
  if (r.storage?.sqliteRowsPerMiB !== undefined) notes.push(`${fmt(r.storage.sqliteRowsPerMiB, 1)} rows/MiB, ${fmt(r.storage.r2PutsPerMiB, 3)} R2 puts/MiB`);
  return notes.join("; ");
}

/** Every row of every scenario, one line each. */
export function rowsTable(scenarios) {
  const header = ["scenario", "target", "case", "records/s", "MiB/s", "lat", "p50 ms", "p90 ms", "p99 ms", "max ms", "srv CPU s", "srv peak MiB", "notes"];
  const lines = [];
  for (const s of scenarios) {
    if (s.rows.length === 0) {
      lines.push([s.name, "-", "-", "INVALID", "", "", "", "", "", "", "", "", s.reasons[0] ?? "no result"]);
      continue;
    }
    for (const r of s.rows) {
      if (!r.valid) {
        lines.push([s.name, r.target ?? "ours-s2", r.label, "INVALID", "", "", "", "", "", "", "", "", r.reason ?? s.reasons[0] ?? ""]);
        continue;
      }
      lines.push([
        s.name, r.target ?? "ours-s2", r.label, fmt(r.recordsPerSec, 0), fmt(r.mibPerSec, 2), r.latencyKind,
        fmt(r.latency?.p50), fmt(r.latency?.p90), fmt(r.latency?.p99), fmt(r.latency?.max),
        fmt(r.server?.cpuSeconds, 2), fmt(r.server?.peakRssBytes / MB, 0), notesOf(r),
      ]);
    }
    if (!s.valid && s.rows.every((r) => r.valid)) lines.push([s.name, "", "(scenario)", "INVALID", "", "", "", "", "", "", "", "", s.reasons[0]]);
  }
  return render(header, lines, new Set([3, 4, 6, 7, 8, 9, 10, 11]));
}

export const RATIOS = [["ours-ds", "ref-memory"], ["ours-ds", "ref-file"], ["ours-s2", "ref-memory"], ["ours-s2", "ref-file"]];
const FIGURES = [
  ["records/s", (r) => r.recordsPerSec],
  ["MiB/s", (r) => r.mibPerSec],
  ["p50 ms", (r) => r.latency?.p50],
  ["p90 ms", (r) => r.latency?.p90],
  ["p99 ms", (r) => r.latency?.p99],
  ["max ms", (r) => r.latency?.max],
  ["srv CPU s", (r) => r.server?.cpuSeconds],
  ["srv peak MiB", (r) => (r.server?.peakRssBytes === undefined ? undefined : r.server.peakRssBytes / MB)],
];

/**
 * Per scenario and case: every figure per target and each ours ÷ peer ratio (invalid rows give no figure).
 * [{ scenario, case, latencyKind, figures: { [figure]: { [target]: v, ratios: { "ours-ds/ref-file": r } } } }]
 */
export function comparisons(scenarios) {
  const out = [];
  for (const s of scenarios) {
    const byCase = new Map();
    for (const r of s.rows) {
      if (!byCase.has(r.label)) byCase.set(r.label, new Map());
      byCase.get(r.label).set(r.target ?? "ours-s2", r);
    }
    for (const [label, rows] of byCase) {
      if (rows.size < 2) continue;
      const figures = {};
      for (const [name, get] of FIGURES) {
        const f = { ratios: {} };
        // An invalid row gives no number: "invalid".
        for (const [t, r] of rows) f[t] = r.valid ? get(r) : "invalid";
        for (const [a, b] of RATIOS) {
          if (typeof f[a] === "number" && typeof f[b] === "number" && f[b] !== 0) f.ratios[`${a}/${b}`] = Number((f[a] / f[b]).toFixed(3));
        }
        figures[name] = f;
      }
      const any = [...rows.values()][0];
      out.push({ scenario: s.name, case: label, latencyKind: any.latencyKind, figures });
    }
  }
  return out;
}

/** The comparison as a table: records/s (MiB/s for catch-up), p50 and p99 per target, then the ratios. */
export function comparisonTable(comps, targetNames) {
  const header = ["scenario", "case", "figure", ...targetNames, ...RATIOS.map(([a, b]) => `${a.replace("ours-", "")}÷${b.replace("ref-", "")}`)];
  const lines = [];
  for (const c of comps) {
    const throughput = c.scenario === "catch-up" ? "MiB/s" : "records/s";
    const lat = c.latencyKind ?? "lat";
    for (const name of [throughput, "p50 ms", "p99 ms"]) {
      const f = c.figures[name];
      const label = name === throughput ? name : `${lat} ${name}`;
      lines.push([c.scenario, c.case, label, ...targetNames.map((t) => (f[t] === "invalid" ? "INVALID" : fmt(f[t], name === "records/s" ? 0 : 1))), ...RATIOS.map(([a, b]) => fmt(f.ratios[`${a}/${b}`], 2))]);
    }
  }
  return render(header, lines, new Set(Array.from({ length: targetNames.length + RATIOS.length }, (_, i) => i + 3)));
}

const find = (scenarios, name) => scenarios.find((s) => s.name === name);
const rowOf = (s, target, label) => s?.rows.find((r) => (r.target ?? "ours-s2") === target && r.label === label);

/**
 * The issue's five targets, each checked on our server's rows (both protocols) against the figures of this run.
 * [{ goal, checks: [{ what, value, met: true|false|undefined (not measured / invalid), note }] }]
 */
export function evaluateGoals(scenarios) {
  const goals = [];
  const ours = ["ours-ds", "ours-s2"];

  const tput = find(scenarios, "append-throughput");
  const g1 = { goal: "batch-100 append throughput ≥ 1.0× the reference server's file-backed mode", checks: [] };
  for (const lanes of [1, 8]) {
    const label = `batch 100 x ${lanes} in flight`;
    const peer = rowOf(tput, "ref-file", label);
    for (const t of ours) {
      const r = rowOf(tput, t, label);
      if (!r && !peer) continue;
      const ratio = r?.valid && peer?.valid ? r.recordsPerSec / peer.recordsPerSec : undefined;
      g1.checks.push({ what: `${t} ${label}`, value: ratio === undefined ? undefined : Number(ratio.toFixed(2)), unit: "×", met: ratio === undefined ? undefined : ratio >= 1.0, note: r?.valid && peer?.valid ? `${fmt(r.recordsPerSec, 0)} vs ${fmt(peer.recordsPerSec, 0)} records/s` : "not measured or invalid" });
    }
  }
  goals.push(g1);

  const lat = find(scenarios, "append-latency");
  const g2 = { goal: "ack p99 ≤ 5× ack p50 (fixed-rate appends)", checks: [] };
  for (const r of lat?.rows ?? []) {
    if (!ours.includes(r.target ?? "ours-s2")) continue;
    const ratio = r.valid ? r.latency.p99 / r.latency.p50 : undefined;
    g2.checks.push({ what: `${r.target} ${r.label}`, value: ratio === undefined ? undefined : Number(ratio.toFixed(2)), unit: "×", met: ratio === undefined ? undefined : ratio <= 5, note: r.valid ? `p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms${r.extra?.saturated ? ", saturated" : ""}` : "invalid" });
  }
  goals.push(g2);

  const e2e = find(scenarios, "e2e-latency");
  const g3 = { goal: "end-to-end p99 with 1,000 readers ≤ 100 ms locally", checks: [] };
  for (const r of e2e?.rows ?? []) {
    if (!ours.includes(r.target) || !/^1000 readers/.test(r.label)) continue;
    g3.checks.push({ what: `${r.target} ${r.label}`, value: r.valid ? r.latency.p99 : undefined, unit: "ms", met: r.valid ? r.latency.p99 <= 100 : undefined, note: r.valid ? `p50 ${fmt(r.latency.p50)} ms` : "invalid" });
  }
  if (g3.checks.length === 0) g3.checks.push({ what: "no 1,000-reader case ran", met: undefined, note: e2e ? `readers: ${e2e.params?.readers?.join(", ")}` : "" });
  goals.push(g3);

  const idle = find(scenarios, "writer-with-idle-readers");
  const g4 = { goal: "writer throughput drops < 20% with 1,000 idle readers attached", checks: [] };
  for (const t of ours) {
    const r = idle?.rows.find((x) => x.target === t && x.extra?.ratioVsNoReaders !== undefined);
    const n = idle?.params?.readers;
    if (!idle || !idle.rows.some((x) => x.target === t)) continue;
    const ratio = r?.extra.ratioVsNoReaders;
    // With fewer than 1,000 readers a small drop proves nothing about the target; a big one still misses it.
    let met;
    if (ratio !== undefined) met = ratio <= 0.8 ? false : n >= 1000 ? true : undefined;
    g4.checks.push({ what: `${t} with ${n} idle readers`, value: ratio, unit: "× of baseline", met, note: r ? `baselines differ ${fmt(r.extra.baselineSpread * 100, 0)}%${n < 1000 ? `; only ${n} readers` : ""}` : "invalid" });
  }
  goals.push(g4);

  const cu = find(scenarios, "catch-up");
  const g5 = { goal: "catch-up from sealed segments ≥ 100 MiB/s", checks: [] };
  for (const r of cu?.rows ?? []) {
    if (!ours.includes(r.target) || !/^sealed/.test(r.label)) continue;
    g5.checks.push({ what: `${r.target} ${r.label}`, value: r.valid ? r.mibPerSec : undefined, unit: "MiB/s", met: r.valid ? r.mibPerSec >= 100 : undefined, note: r.valid ? `${r.extra?.segments} segments` : "invalid" });
  }
  goals.push(g5);
  return goals;
}

export function goalsText(goals) {
  const lines = [];
  for (const g of goals) {
    const ms = g.checks.map((c) => c.met);
    const status = ms.length > 0 && ms.every((m) => m === true) ? "MET" : ms.some((m) => m === false) ? "MISSED" : ms.some((m) => m === true) ? "PARTLY MEASURED" : "NOT MEASURED";
    lines.push(`${status.padEnd(15)} ${g.goal}`);
    for (const c of g.checks) {
      const mark = c.met === true ? "ok  " : c.met === false ? "MISS" : "n/a ";
      lines.push(`    ${mark} ${c.what}: ${c.value === undefined ? "-" : `${c.value} ${c.unit ?? ""}`.trim()}${c.note ? ` (${c.note})` : ""}`);
    }
  }
  return lines.join("\n");
}

/** The side-by-side comparison as a Markdown table (what README "Benchmarks" shows). */
export function comparisonMarkdown(comps, targetNames) {
  const ratios = RATIOS.filter(([a, b]) => targetNames.includes(a) && targetNames.includes(b));
  const head = ["scenario", "case", "figure", ...targetNames, ...ratios.map(([a, b]) => `${a} ÷ ${b}`)];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (i < 3 ? "---" : "---:")).join(" | ")} |`];
  for (const c of comps) {
    const throughput = c.scenario === "catch-up" ? "MiB/s" : "records/s";
    for (const name of [throughput, "p50 ms", "p99 ms"]) {
      const f = c.figures[name];
      const digits = name === "records/s" ? 0 : 1;
      const cell = (v) => (v === "invalid" ? "INVALID" : fmt(v, digits));
      const label = name === throughput ? name : `${c.latencyKind} ${name}`;
      lines.push(`| ${c.scenario} | ${c.case} | ${label} | ${targetNames.map((t) => cell(f[t])).join(" | ")} | ${ratios.map(([a, b]) => fmt(f.ratios[`${a}/${b}`], 2)).join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

/** The goals as a Markdown list. */
export function goalsMarkdown(goals) {
  const lines = [];
  for (const g of goals) {
    const ms = g.checks.map((c) => c.met);
    const status = ms.length > 0 && ms.every((m) => m === true) ? "met" : ms.some((m) => m === false) ? "missed" : "not measured";
    lines.push(`- **${status}**: ${g.goal}`);
    for (const c of g.checks) lines.push(`  - ${c.met === true ? "ok" : c.met === false ? "miss" : "n/a"}: ${c.what}: ${c.value === undefined ? "-" : `${c.value} ${c.unit ?? ""}`.trim()}${c.note ? ` (${c.note})` : ""}`);
  }
  return lines.join("\n");
}
