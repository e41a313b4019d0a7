/**
 * fast-check generators of hostile input shared by the fuzz tests: path segments with tricks in them,
 * query strings with edge-case numbers, header values, JSON values of every wrong type, and mutations of
 * valid protobuf and JSON bodies.
 */
import fc from "fast-check";
import { encodeAppendInput } from "../../src/protocol/s2/proto";
import { headerSafe } from "./fuzz-support";

const encoder = new TextEncoder();

/** A path segment: names valid and not, traversal, encodings valid and broken, NUL, huge, any Unicode. */
export const segmentArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "x", "stream-1", "a%2Fb", "a/b", "..", ".", "%2e%2e", "%2E", "%00", "a%00b", "%zz", "%", "%C3%28", "%FF%FE", "%E2%82",
    "con", "__ds", "%2F", "%252F", "~", "a%20b", "+", "%u0041", "null", "undefined", "0", "-1", "%F0%9F%98%80",
    "UPPER-CASE-BASIN", "ab", "valid-basin-01", "-leading", "trailing-",
  ),
  fc.string({ maxLength: 24 }).map(encodeURIComponent),
  fc.string({ unit: "binary", maxLength: 24 }).map(encodeURIComponent),
  fc.integer({ min: 500, max: 3000 }).map((n) => "s".repeat(n)),
  fc.constant("a".repeat(20_000)),
);

/** Numbers as query values: every edge of u64, u32 and JS numbers, and things that are not numbers. */
export const numberTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "0", "1", "-1", "-0", "+1", "1.5", "1e3", "0x10", "0b1", "007", " 1", "1 ", "", "NaN", "Infinity", "true", "null",
    "4294967295", "4294967296", "9007199254740991", "9007199254740992", "9007199254740993",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999999", "１", "1,2", "[1]",
  ),
  fc.integer().map(String),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
  fc.string({ maxLength: 12 }),
);

const QUERY_KEYS = [
  "seq_num", "timestamp", "tail_offset", "count", "bytes", "until", "wait", "clamp", "prefix", "start_after", "limit",
  "offset", "live", "cursor", "basin", "format", "access_token", "last_event_id", "set", "start", "end", "interval",
];

/** A query string; `wait` never above 1 s, so that a valid long-poll cannot look like a hang. */
export const queryArb: fc.Arbitrary<string> = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 8 })),
    fc.oneof(numberTextArb, fc.constantFrom("true", "false", "sse", "long-poll", "now", "-1", "base64", "raw", "json", "", "%zz", "a&b=c")),
    fc.boolean(),
  ),
  { maxLength: 6 },
).map((pairs) => pairs.map(([key, value, encode]) => {
  const v = key === "wait" && Number(value) > 1 ? "1" : value;
  return `${encode ? encodeURIComponent(key) : key}=${encode ? encodeURIComponent(v) : v}`;
}).join("&"));

/** A header value a client can send (Latin-1, no CR/LF): sometimes plausible, sometimes not. */
export const headerValueArb = (plausible: string[]): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom(...plausible),
  fc.string({ maxLength: 40 }).map(headerSafe),
  fc.string({ unit: "binary", maxLength: 40 }).map((s) => headerSafe([...s].map((c) => String.fromCharCode(c.charCodeAt(0) & 0xff)).join(""))),
  fc.constant("x".repeat(5000)),
);

/** A JSON value of any wrong type, edge number or shape. */
export const hostileJsonArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 64, "", "0", "-1", [], {}, [[]], { "": "" }, "\u0000", "\uD800"),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Records of a JSON append: sometimes right, mostly not. */
export const jsonRecordArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    body: fc.oneof(fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 40 }), hostileJsonArb),
    headers: fc.oneof(
      fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 3 }),
      fc.array(hostileJsonArb, { maxLength: 3 }),
      fc.constantFrom([["", "fence"]], [["", "trim"]], [["", "bogus"]], [["", "fence"], ["a", "b"]], [["", ""]]),
      hostileJsonArb,
    ),
    timestamp: fc.oneof(fc.nat(), hostileJsonArb),
  }, { requiredKeys: [] }),
  hostileJsonArb,
);

export const jsonAppendArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    records: fc.oneof(fc.array(jsonRecordArb, { maxLength: 5 }), hostileJsonArb),
    match_seq_num: fc.oneof(fc.nat({ max: 10 }), hostileJsonArb),
    fencing_token: fc.oneof(fc.string({ maxLength: 40 }), hostileJsonArb),
  }, { requiredKeys: [] }),
  hostileJsonArb,
);

/** Bytes that are almost JSON: valid text cut, spliced with invalid UTF-8, nested deeply, or noise. */
export function jsonBytesArb(valueArb: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: valueArb.map((v) => encoder.encode(JSON.stringify(v) ?? "null")) },
    { weight: 2, arbitrary: fc.tuple(valueArb, fc.nat()).map(([v, cut]) => {
      const bytes = encoder.encode(JSON.stringify(v) ?? "null");
      return bytes.subarray(0, cut % (bytes.length + 1));
    }) },
    { weight: 1, arbitrary: fc.tuple(valueArb, fc.nat(), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82])).map(([v, at, bad]) => {
      const bytes = encoder.encode(JSON.stringify(v) ?? "null");
      const i = at % (bytes.length + 1);
      return new Uint8Array([...bytes.subarray(0, i), ...bad, ...bytes.subarray(i)]);
    }) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((depth) => encoder.encode(`${"[".repeat(depth)}${"]".repeat(depth)}`)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  );
}

/** A protobuf AppendInput, valid or not, then perhaps bit-flipped, cut, extended or prefixed. */
export const protoBytesArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.array(fc.record({
    body: fc.uint8Array({ maxLength: 30 }),
    headers: fc.array(fc.tuple(fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 })), { maxLength: 2 }),
    timestamp: fc.option(fc.nat(), { nil: undefined }),
  }), { maxLength: 4 }),
  fc.option(fc.nat({ max: 20 }), { nil: undefined }),
  fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
  fc.constantFrom("none", "flip", "cut", "append", "prefix", "varint"),
  fc.nat(),
  fc.uint8Array({ minLength: 1, maxLength: 12 }),
).map(([records, matchSeqNum, fencingToken, mutation, at, noise]) => {
  const valid = encodeAppendInput({
    records: records.map((r) => ({ body: r.body, headers: r.headers.map(([n, v]) => [n, v] as const), ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}) })),
    ...(matchSeqNum !== undefined ? { matchSeqNum } : {}),
    ...(fencingToken !== undefined ? { fencingToken } : {}),
  });
  const i = valid.length === 0 ? 0 : at % valid.length;
  switch (mutation) {
    case "flip": {
      const out = new Uint8Array(valid);
      if (out.length > 0) out[i] = out[i]! ^ (1 << (at % 8));
      return out;
    }
    case "cut":
      return valid.subarray(0, i);
    case "append":
      return new Uint8Array([...valid, ...noise]);
    case "prefix":
      return new Uint8Array([...noise, ...valid]);
    case "varint":
      // A length-delimited field 1 whose length varint never ends, or claims far more than is there.
      return new Uint8Array([0x0a, ...Array(at % 12).fill(0xff), 0x7f, ...valid]);
    default:
      return valid;
  }
});
