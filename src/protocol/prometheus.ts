/**
 * The Prometheus text exposition format, version 0.0.4 (what `GET /metrics` answers, as s2-lite's does;
 * S2-API §1.3). Pure: metric families in, text out.
 *
 *   # HELP edgestream_appends_total Appends acknowledged by this isolate.
 *   # TYPE edgestream_appends_total counter
 *   edgestream_appends_total{protocol="s2"} 42
 *
 * A histogram is its cumulative buckets, then `_sum` and `_count`:
 *
 *   edgestream_append_ack_latency_seconds_bucket{le="0.005"} 3
 *   edgestream_append_ack_latency_seconds_bucket{le="+Inf"} 5
 *   edgestream_append_ack_latency_seconds_sum 0.021
 *   edgestream_append_ack_latency_seconds_count 5
 *
 * Label values are escaped (`\\`, `\"`, `\n`), so no value can break out of its quotes or its line.
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Upper bounds, increasing; `+Inf` is implied after the last. */
  bounds: readonly number[];
  /** Observations per bucket, not cumulative: one per bound, then the overflow (length bounds + 1). */
  counts: readonly number[];
  sum: number;
}

export type Family =
  | { name: string; help: string; type: "counter" | "gauge"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; samples: readonly HistogramSample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const escapeLabelValue = (value: string): string =>
  value.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"").replaceAll("\n", "\\n");

const escapeHelp = (help: string): string => help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function renderLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  for (const [name] of pairs) if (!LABEL_NAME.test(name)) throw new RangeError(`invalid label name ${name}`);
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

function renderHistogram(name: string, sample: HistogramSample): string[] {
  const lines: string[] = [];
  let cumulative = 0;
  sample.bounds.forEach((bound, i) => {
    cumulative += sample.counts[i] ?? 0;
    lines.push(`${name}_bucket${renderLabels(sample.labels, ["le", formatValue(bound)])} ${cumulative}`);
  });
  cumulative += sample.counts[sample.bounds.length] ?? 0;
  lines.push(`${name}_bucket${renderLabels(sample.labels, ["le", "+Inf"])} ${cumulative}`);
  lines.push(`${name}_sum${renderLabels(sample.labels)} ${formatValue(sample.sum)}`);
  lines.push(`${name}_count${renderLabels(sample.labels)} ${cumulative}`);
  return lines;
}

/** The exposition of these families, in order; every line ends with `\n`. */
export function renderPrometheus(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!NAME.test(family.name)) throw new RangeError(`invalid metric name ${family.name}`);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") {
      for (const sample of family.samples) lines.push(...renderHistogram(family.name, sample));
    } else {
      for (const sample of family.samples) lines.push(`${family.name}${renderLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
