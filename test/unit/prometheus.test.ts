// The Prometheus text format (protocol/prometheus.ts) and the route groups requests are counted by.
import { describe, expect, it } from "vitest";
import { escapeLabelValue, formatValue, renderPrometheus } from "../../src/protocol/prometheus";
import { routeGroup } from "../../src/http/metrics/observe";

describe("renderPrometheus", () => {
  it("renders HELP, TYPE and one line per sample", () => {
    expect(renderPrometheus([
      { name: "x_total", help: "Things.", type: "counter", samples: [{ labels: { group: "a", code: "b" }, value: 3 }, { labels: {}, value: 0.5 }] },
      { name: "up", help: "Up.", type: "gauge", samples: [{ labels: {}, value: 1 }] },
    ])).toBe([
      "# HELP x_total Things.",
      "# TYPE x_total counter",
      'x_total{group="a",code="b"} 3',
      "x_total 0.5",
      "# HELP up Up.",
      "# TYPE up gauge",
      "up 1",
      "",
    ].join("\n"));
  });

  it("renders a histogram as cumulative buckets, +Inf, sum and count", () => {
    const text = renderPrometheus([{
      name: "lat_seconds", help: "Latency.", type: "histogram",
      samples: [{ labels: { protocol: "s2" }, bounds: [0.1, 1], counts: [2, 1, 4], sum: 12.5 }],
    }]);
    expect(text.split("\n").slice(2, -1)).toEqual([
      'lat_seconds_bucket{protocol="s2",le="0.1"} 2',
      'lat_seconds_bucket{protocol="s2",le="1"} 3',
      'lat_seconds_bucket{protocol="s2",le="+Inf"} 7',
      'lat_seconds_sum{protocol="s2"} 12.5',
      'lat_seconds_count{protocol="s2"} 7',
    ]);
  });

  it("escapes label values and help so nothing breaks out of its quotes or line", () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = renderPrometheus([{ name: "m", help: "two\nlines \\", type: "gauge", samples: [{ labels: { basin: '"}\n evil 1' }, value: 1 }] }]);
    expect(text.split("\n")).toEqual(["# HELP m two\\nlines \\\\", "# TYPE m gauge", 'm{basin="\\"}\\n evil 1"} 1', ""]);
  });

  it("formats special values as Prometheus spells them", () => {
    expect([NaN, Infinity, -Infinity, 0, 1e21].map(formatValue)).toEqual(["NaN", "+Inf", "-Inf", "0", "1e+21"]);
  });

  it("refuses invalid metric and label names", () => {
    expect(() => renderPrometheus([{ name: "bad-name", help: "", type: "gauge", samples: [] }])).toThrow(RangeError);
    expect(() => renderPrometheus([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 }] }])).toThrow(RangeError);
  });

  it("renders nothing for no families", () => {
    expect(renderPrometheus([])).toBe("");
  });
});

describe("routeGroup", () => {
  it.each([
    ["/health", "health"], ["/metrics", "metrics"], ["/v1/metrics", "s2-metrics"], ["/v1/metrics/b/s", "s2-metrics"],
    ["/v1/basins", "s2-account"], ["/v1/access-tokens/x", "s2-account"], ["/v1/streams", "s2-streams"],
    ["/v1/streams/a%2Fb", "s2-streams"], ["/v1/streams/x/records", "s2-records"], ["/v1/streams/x/records/tail", "s2-records"],
    ["/v1/stream/__ds/subscriptions", "ds-subscriptions"], ["/v1/stream/my/stream", "ds"], ["/v1/streamsx", "other"], ["/", "other"],
  ])("%s is %s", (path, group) => {
    expect(routeGroup(path)).toBe(group);
  });
});
