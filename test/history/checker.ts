/**
 * Judges a recorded history (model.ts) against the stream's final contents, read back after every client
 * stopped. It reports, never throws:
 *
 * - the log itself: seq nums consecutive from the first, timestamps never decreasing;
 * - every record identified by its tag and written by some attempt (no phantoms), every append present
 *   whole or not at all, contiguous, in batch order, at most once (no duplicate even across producer
 *   retries), with identical headers and body bytes;
 * - outcomes: every acknowledged append is present, at the positions its ack named; nothing refused (412,
 *   other 4xx) is present; a present append satisfied its match_seq_num and fencing token; a 412 reported a
 *   value other than the one the client asked for;
 * - linearizability of appends, check-tail, 412s, ack tails and reads (linearizability.ts);
 * - readers: each saw a contiguous run of the log from where it started, with no gap, duplicate or
 *   reorder, byte for byte, and followers reached the end they were meant to reach.
 *
 * Unknown outcomes (5xx, lost connections) are allowed either way, but still all-or-nothing and at most once.
 */
import { concatBytes } from "../../src/lib/bytes";
import { LinearizabilityCheck, type ChainOp } from "./linearizability";
import {
  equalBytes, equalHeaders, fnv1a, identify, isFence, preview, recordDigest, type AppendAttempt, type Bytes, type History,
  type LogRecord, type ReaderHistory, type RecordData, type Violation,
} from "./model";

export interface CheckStats {
  records: number;
  attempts: number;
  acknowledged: number;
  refused: number;
  unknown: number;
  /** Appends with an unknown outcome that turned out to be in the log. */
  unknownApplied: number;
  tailObservations: number;
  readers: number;
  deliveredRecords: number;
  deliveredBytes: number;
}

export interface CheckResult {
  violations: Violation[];
  /** Violations beyond `maxPerKind`, not listed. */
  suppressed: number;
  stats: CheckStats;
}

interface KeyInfo {
  attempts: AppendAttempt[];
  records: readonly RecordData[];
  /** [start, end) where the append is in the log, when it is there exactly once. */
  placed?: { start: number; end: number };
  occurrences: number;
}

const isAck = (a: AppendAttempt) => a.outcome.type === "ok" || a.outcome.type === "duplicate";
const isRefusal = (a: AppendAttempt) =>
  a.outcome.type === "seq_num_mismatch" || a.outcome.type === "fencing_token_mismatch" || a.outcome.type === "rejected";

class Report {
  readonly violations: Violation[] = [];
  readonly #perKind = new Map<string, number>();
  suppressed = 0;

  constructor(private readonly maxPerKind: number) {}

  add(kind: Violation["kind"], message: string): void {
    const n = (this.#perKind.get(kind) ?? 0) + 1;
    this.#perKind.set(kind, n);
    if (n > this.maxPerKind) this.suppressed++;
    else this.violations.push({ kind, message });
  }

  has(...kinds: Violation["kind"][]): boolean {
    return kinds.some((k) => (this.#perKind.get(k) ?? 0) > 0);
  }
}

export function checkHistory(history: History, log: readonly LogRecord[], options: { maxPerKind?: number } = {}): CheckResult {
  const report = new Report(options.maxPerKind ?? 20);
  checkLogShape(history, log, report);
  const keys = collectKeys(history, report);
  placeKeys(keys, log, report);
  const tokens = tokensBefore(history, log);
  for (const [key, info] of keys) checkOutcomes(key, info, log, tokens, report);
  const structural = report.has("log", "phantom", "duplicate", "partial", "reorder", "harness");
  if (!structural) checkLinearizable(history, keys, tokens, report);
  const logEnd = log.length > 0 ? log[log.length - 1]!.seqNum + 1 : history.initialSeqNum;
  const bySeq = new Map(log.map((r) => [r.seqNum, r]));
  for (const reader of history.readers) checkReader(reader, bySeq, logEnd, history.initialSeqNum, report);
  return { violations: report.violations, suppressed: report.suppressed, stats: statsOf(history, keys, log) };
}

function checkLogShape(history: History, log: readonly LogRecord[], report: Report): void {
  let expected = history.initialSeqNum;
  let previousTimestamp = -Infinity;
  for (const record of log) {
    if (record.seqNum !== expected) report.add("log", `the log has seq num ${record.seqNum} where ${expected} was due`);
    if (record.timestamp < previousTimestamp) {
      report.add("log", `timestamp of seq ${record.seqNum} (${record.timestamp}) is below its predecessor's (${previousTimestamp})`);
    }
    expected = record.seqNum + 1;
    previousTimestamp = record.timestamp;
  }
}

function collectKeys(history: History, report: Report): Map<string, KeyInfo> {
  const keys = new Map<string, KeyInfo>();
  for (const attempt of history.appends) {
    attempt.records.forEach((record, index) => {
      const id = identify(record);
      if (!id || id.key !== attempt.key || id.index !== index) {
        report.add("harness", `attempt ${attempt.id} (key ${attempt.key}) record ${index} is tagged ${JSON.stringify(id)}`);
      }
    });
    const info = keys.get(attempt.key);
    if (!info) {
      keys.set(attempt.key, { attempts: [attempt], records: attempt.records, occurrences: 0 });
      continue;
    }
    if (!sameRecords(info.records, attempt.records)) report.add("harness", `attempts of key ${attempt.key} carry different records`);
    info.attempts.push(attempt);
  }
  return keys;
}

/** Finds each key in the log: whole, contiguous, in order and once, or a violation saying how not. */
function placeKeys(keys: Map<string, KeyInfo>, log: readonly LogRecord[], report: Report): void {
  const found = new Map<string, { seqNum: number; index: number }[]>();
  for (const record of log) {
    const id = identify(record);
    const info = id && keys.get(id.key);
    if (!id || !info) {
      report.add("phantom", `seq ${record.seqNum} (${preview(record.body)}) was written by no recorded append`);
      continue;
    }
    const expected = info.records[id.index];
    if (!expected) {
      report.add("phantom", `seq ${record.seqNum} claims to be record ${id.index} of ${id.key}, which has ${info.records.length}`);
      continue;
    }
    if (!equalBytes(expected.body, record.body) || !equalHeaders(expected.headers, record.headers)) {
      report.add("bytes", `seq ${record.seqNum} (${id.key}#${id.index}) differs from what was written: `
        + `${preview(record.body)} vs ${preview(expected.body)}, ${record.headers.length} vs ${expected.headers.length} headers`);
    }
    const list = found.get(id.key) ?? [];
    list.push({ seqNum: record.seqNum, index: id.index });
    found.set(id.key, list);
  }
  for (const [key, list] of found) {
    const info = keys.get(key)!;
    info.occurrences = list.length;
    const n = info.records.length;
    const at = list.map((o) => `${o.seqNum}:#${o.index}`).slice(0, 12).join(" ");
    const seen = new Set(list.map((o) => o.index));
    if (seen.size < list.length) {
      report.add("duplicate", `append ${key} (${clients(info)}) is in the log more than once: ${at}`);
    } else if (list.length < n) {
      report.add("partial", `append ${key} (${clients(info)}) has ${list.length} of its ${n} records in the log: ${at}`);
    } else if (!list.every((o, i) => o.index === i && o.seqNum === list[0]!.seqNum + i)) {
      report.add("reorder", `append ${key} (${clients(info)}) is not contiguous and in order: ${at}`);
    } else {
      info.placed = { start: list[0]!.seqNum, end: list[0]!.seqNum + n };
    }
  }
}

/** The fencing token in force before each seq num (and at the end), from the fence records in the log. */
function tokensBefore(history: History, log: readonly LogRecord[]): (seqNum: number) => string {
  const before = new Map<number, string>();
  let token = "";
  for (const record of log) {
    before.set(record.seqNum, token);
    if (isFence(record)) token = new TextDecoder().decode(record.body);
  }
  const end = token;
  return (seqNum) => before.get(seqNum) ?? (seqNum <= history.initialSeqNum ? "" : end);
}

function checkOutcomes(key: string, info: KeyInfo, log: readonly LogRecord[], tokenBefore: (s: number) => string, report: Report): void {
  const acks = info.attempts.filter(isAck);
  const placed = info.placed;
  if (acks.length > 0 && info.occurrences === 0) {
    const ack = acks.find((a) => a.outcome.type === "ok");
    const where = ack?.outcome.type === "ok" ? ` (acknowledged at [${ack.outcome.start}, ${ack.outcome.end}))` : "";
    report.add("lost", `acknowledged append ${key} by ${acks[0]!.client}${where} is not in the log`);
  }
  const writers = info.attempts.filter((a) => a.outcome.type === "ok" || a.outcome.type === "unknown");
  if (info.occurrences > 0 && writers.length === 0) {
    report.add("failed-applied", `append ${key} (${clients(info)}) is in the log though every attempt was refused: `
      + info.attempts.map((a) => a.outcome.type).join(", "));
  }
  for (const attempt of info.attempts) checkAttempt(attempt, info, log, report);
  if (!placed || writers.length === 0) return;
  const matching = writers.filter((a) => a.matchSeqNum === undefined || a.matchSeqNum === placed.start);
  if (matching.length === 0) {
    report.add("condition", `append ${key} is at seq ${placed.start}, but it asked for match_seq_num ${writers.map((a) => a.matchSeqNum).join("/")}`);
  }
  const token = tokenBefore(placed.start);
  if (!writers.some((a) => a.fencingToken === undefined || a.fencingToken === token)) {
    report.add("condition", `append ${key} is at seq ${placed.start} where the fencing token was ${JSON.stringify(token)}, `
      + `but it asked for ${writers.map((a) => JSON.stringify(a.fencingToken)).join("/")}`);
  }
}

function checkAttempt(attempt: AppendAttempt, info: KeyInfo, log: readonly LogRecord[], report: Report): void {
  const { outcome } = attempt;
  const name = `${attempt.id} (${attempt.client}, ${attempt.key})`;
  if (outcome.type === "ok") {
    if (outcome.end - outcome.start !== info.records.length) {
      report.add("ack", `${name}: ack [${outcome.start}, ${outcome.end}) for ${info.records.length} records`);
    }
    if (outcome.tail !== undefined && outcome.tail < outcome.end) report.add("ack", `${name}: ack tail ${outcome.tail} is before its end ${outcome.end}`);
    const placed = info.placed;
    if (placed && (placed.start !== outcome.start || placed.end !== outcome.end)) {
      report.add("ack", `${name}: acknowledged at [${outcome.start}, ${outcome.end}) but is at [${placed.start}, ${placed.end}) in the log`);
    }
    if (placed) checkAckTimestamps(name, outcome, placed, log, report);
  } else if (outcome.type === "seq_num_mismatch" && outcome.expected === attempt.matchSeqNum) {
    report.add("condition", `${name}: refused with seq_num_mismatch ${outcome.expected}, which is the match_seq_num it sent`);
  } else if (outcome.type === "fencing_token_mismatch" && outcome.expected === attempt.fencingToken) {
    report.add("condition", `${name}: refused with fencing_token_mismatch ${JSON.stringify(outcome.expected)}, the token it sent`);
  }
}

function checkAckTimestamps(
  name: string, ack: { startTimestamp?: number; endTimestamp?: number }, placed: { start: number; end: number },
  log: readonly LogRecord[], report: Report,
): void {
  const first = log.find((r) => r.seqNum === placed.start);
  const last = log.find((r) => r.seqNum === placed.end - 1);
  if (ack.startTimestamp !== undefined && first && first.timestamp !== ack.startTimestamp) {
    report.add("ack", `${name}: ack start timestamp ${ack.startTimestamp}, stored ${first.timestamp}`);
  }
  if (ack.endTimestamp !== undefined && last && last.timestamp !== ack.endTimestamp) {
    report.add("ack", `${name}: ack end timestamp ${ack.endTimestamp}, stored ${last.timestamp}`);
  }
}

function checkLinearizable(history: History, keys: Map<string, KeyInfo>, tokenBefore: (s: number) => string, report: Report): void {
  const effective = [...keys.entries()].filter(([, info]) => info.placed).sort((a, b) => a[1].placed!.start - b[1].placed!.start);
  const ops: ChainOp[] = effective.map(([key, info]) => ({
    label: `append ${key} (${clients(info)})`,
    invokedAtMs: Math.min(...info.attempts.map((a) => a.invokedAtMs)),
    acknowledgedAtMs: Math.min(Infinity, ...info.attempts.filter(isAck).map((a) => a.completedAtMs)),
  }));
  // A loop, not Math.min(...): a long run's history is too big to spread into arguments.
  let origin = Infinity;
  for (const a of history.appends) origin = Math.min(origin, a.invokedAtMs);
  for (const t of history.tails) origin = Math.min(origin, t.invokedAtMs);
  const check = new LinearizabilityCheck(ops, Number.isFinite(origin) ? origin : 0);
  // ends[i]: the tail after the i-th effective append; stateOf: the inverse.
  const ends = [history.initialSeqNum, ...effective.map(([, info]) => info.placed!.end)];
  const stateOf = new Map(ends.map((end, i) => [end, i]));
  const logEnd = ends[ends.length - 1]!;
  const state = (tail: number, what: string): number | undefined => {
    const i = stateOf.get(tail);
    if (i === undefined) {
      report.add(tail > logEnd ? "lost" : "linearizability", tail > logEnd
        ? `${what} reported tail ${tail}, beyond the final tail ${logEnd}: records it counted are gone`
        : `${what} reported tail ${tail}, which is inside an append batch`);
    }
    return i;
  };
  const observe = (tail: number, a: number, b: number, what: string) => {
    const s = state(tail, what);
    if (s !== undefined) check.observeStates(s, s, a, b, `${what} reported tail ${tail}`);
  };
  for (const t of history.tails) observe(t.tail, t.invokedAtMs, t.completedAtMs, `${t.client} ${t.id}`);
  for (const a of history.appends) {
    const what = `${a.client} ${a.id}`;
    if ((a.outcome.type === "ok" || a.outcome.type === "duplicate") && a.outcome.tail !== undefined) {
      observe(a.outcome.tail, a.invokedAtMs, a.completedAtMs, `the ack of ${what}`);
    }
    if (a.outcome.type === "seq_num_mismatch") observe(a.outcome.expected, a.invokedAtMs, a.completedAtMs, `the 412 of ${what}`);
    if (a.outcome.type === "fencing_token_mismatch") {
      observeToken(check, ends, tokenBefore, a.outcome.expected, a, report);
    }
  }
  const opOfSeq = (seqNum: number) => {
    // First i with ends[i] > seqNum: the append that holds it.
    let lo = 1;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! > seqNum) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  for (const reader of history.readers) {
    for (const d of reader.deliveries) {
      const what = `${reader.client} ${reader.id} (${reader.protocol})`;
      if (d.type === "tail") {
        const s = state(d.tail, what);
        if (s !== undefined) check.observeEffect(s, d.atMs, `${what} saw tail ${d.tail}`);
        continue;
      }
      const last = d.type === "record" ? d.seqNum : d.type === "digests" ? d.from + d.digests.length - 1 : d.next - 1;
      if (last >= history.initialSeqNum && last < logEnd) check.observeEffect(opOfSeq(last), d.atMs, `${what} read seq ${last}`);
    }
  }
  for (const v of check.run()) report.add(v.kind, v.message);
}

/** A 412 naming the current token: the stream was in a state with that token while the call ran. */
function observeToken(
  check: LinearizabilityCheck, ends: readonly number[], tokenBefore: (s: number) => string, token: string, a: AppendAttempt, report: Report,
): void {
  const runs: [number, number][] = [];
  for (let s = 0; s < ends.length; s++) {
    if (tokenBefore(ends[s]!) !== token) continue;
    const run = runs[runs.length - 1];
    if (run && run[1] === s - 1) run[1] = s;
    else runs.push([s, s]);
  }
  const what = `the 412 of ${a.client} ${a.id}`;
  if (runs.length === 0) report.add("condition", `${what} named fencing token ${JSON.stringify(token)}, which the stream never had`);
  // With several runs the constraint is a disjunction; harnesses use every token once, so this is rare.
  else if (runs.length === 1) check.observeStates(runs[0]![0], runs[0]![1], a.invokedAtMs, a.completedAtMs, `${what} named token ${JSON.stringify(token)}`);
}

function checkReader(reader: ReaderHistory, bySeq: Map<number, LogRecord>, logEnd: number, initial: number, report: Report): void {
  const name = `${reader.client} ${reader.id} (${reader.protocol})`;
  let position = Math.max(reader.start, initial);
  const at = (from: number) => {
    if (from > position) report.add("reader-gap", `${name} skipped seq ${position}..${from - 1}`);
    if (from < position) report.add("reader-duplicate", `${name} got seq ${from} again (or out of order) at position ${position}`);
  };
  for (const d of reader.deliveries) {
    if (d.type === "tail") {
      if (d.tail > logEnd) report.add("lost", `${name} was told tail ${d.tail}, beyond the final tail ${logEnd}`);
      continue;
    }
    if (d.type === "record") {
      at(d.seqNum);
      const stored = bySeq.get(d.seqNum);
      if (!stored) report.add("lost", `${name} was served seq ${d.seqNum}, which is not in the final log (tail ${logEnd})`);
      else if (!equalBytes(stored.body, d.body) || (d.headers && !equalHeaders(stored.headers, d.headers))
        || (d.timestamp !== undefined && d.timestamp !== stored.timestamp)) {
        report.add("reader-bytes", `${name} got seq ${d.seqNum} as ${preview(d.body)} @${d.timestamp}, stored ${preview(stored.body)} @${stored.timestamp}`);
      }
      position = Math.max(position, d.seqNum + 1);
      continue;
    }
    if (d.type === "digests") {
      at(d.from);
      d.digests.forEach((digest, i) => {
        const seqNum = d.from + i;
        const stored = bySeq.get(seqNum);
        if (!stored) report.add("lost", `${name} was served seq ${seqNum}, which is not in the final log (tail ${logEnd})`);
        else if (recordDigest(stored) !== digest) report.add("reader-bytes", `${name} got seq ${seqNum} with digest ${digest}, stored ${recordDigest(stored)}`);
      });
      position = Math.max(position, d.from + d.digests.length);
      continue;
    }
    at(d.from);
    const parts: Bytes[] = [];
    let missing = false;
    for (let s = d.from; s < d.next && !missing; s++) {
      const stored = bySeq.get(s);
      if (!stored) {
        report.add("lost", `${name} was served seq ${s}, which is not in the final log (tail ${logEnd})`);
        missing = true;
      } else if (!isCommand(stored)) {
        // Byte reads (Durable Streams) carry data only: command records are the engine's (protocol/ds/body.ts).
        parts.push(stored.body);
      }
    }
    const expected = concatBytes(parts);
    if (!missing && d.type === "bytes" && !equalBytes(expected, d.bytes)) {
      report.add("reader-bytes", `${name} got [${d.from}, ${d.next}) as ${d.bytes.length} bytes (${preview(d.bytes)}), stored ${expected.length} (${preview(expected)})`);
    }
    if (!missing && d.type === "bytes-digest" && (d.length !== expected.length || d.digest !== fnv1a(expected))) {
      report.add("reader-bytes", `${name} got [${d.from}, ${d.next}) as ${d.length} bytes with digest ${d.digest}, stored ${expected.length} with ${fnv1a(expected)}`);
    }
    position = Math.max(position, d.next);
  }
  if (reader.mustReach !== undefined && position < reader.mustReach) {
    report.add("reader-stuck", `${name} stopped at seq ${position}, short of ${reader.mustReach}`);
  }
}

function statsOf(history: History, keys: Map<string, KeyInfo>, log: readonly LogRecord[]): CheckStats {
  let deliveredRecords = 0;
  let deliveredBytes = 0;
  for (const reader of history.readers) {
    for (const d of reader.deliveries) {
      if (d.type === "record") deliveredRecords++;
      if (d.type === "digests") deliveredRecords += d.digests.length;
      if (d.type === "bytes") deliveredBytes += d.bytes.length;
      if (d.type === "bytes-digest") deliveredBytes += d.length;
    }
  }
  let unknownApplied = 0;
  for (const info of keys.values()) {
    if (info.occurrences > 0 && !info.attempts.some(isAck)) unknownApplied++;
  }
  return {
    records: log.length,
    attempts: history.appends.length,
    acknowledged: history.appends.filter(isAck).length,
    refused: history.appends.filter(isRefusal).length,
    unknown: history.appends.filter((a) => a.outcome.type === "unknown").length,
    unknownApplied,
    tailObservations: history.tails.length,
    readers: history.readers.length,
    deliveredRecords,
    deliveredBytes,
  };
}

/** A record with an empty-named header is a command record (S2-API §8.2), never data. */
const isCommand = (record: RecordData) => record.headers.some(([name]) => name.length === 0);

function sameRecords(a: readonly RecordData[], b: readonly RecordData[]): boolean {
  return a.length === b.length && a.every((r, i) => equalBytes(r.body, b[i]!.body) && equalHeaders(r.headers, b[i]!.headers));
}

function clients(info: KeyInfo): string {
  return [...new Set(info.attempts.map((a) => a.client))].join("+");
}

