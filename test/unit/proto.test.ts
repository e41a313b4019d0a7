import { describe, expect, it } from "vitest";
import type { AppendAck, AppendInput, ReadBatch } from "../../src/domain/types";
import { utf8 } from "../../src/lib/bytes";
import type { Result } from "../../src/lib/result";
import {
  decodeAppendAck,
  decodeAppendInput,
  decodeReadBatch,
  encodeAppendAck,
  encodeAppendInput,
  encodeReadBatch,
} from "../../src/protocol/s2/proto";
// The official TS SDK's own codec (protobuf-ts), reached by path because the package does not export it.
import * as sdk from "../../node_modules/@s2-dev/streamstore/dist/esm/generated/proto/s2.js";

const bytes = (...values: number[]) => new Uint8Array(values);

function unwrap<T>(result: Result<T, string>): T {
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.value;
}

function expectErr<T>(result: Result<T, string>): string {
  expect(result.ok).toBe(false);
  return result.ok ? "" : result.error;
}

/** Varint encoding of an unsigned bigint, for crafting u64 values protobufjs would never emit from a number. */
function varint(value: bigint): number[] {
  const out: number[] = [];
  do {
    const low = Number(value & 0x7fn);
    value >>= 7n;
    out.push(value > 0n ? low | 0x80 : low);
  } while (value > 0n);
  return out;
}

const MAX = Number.MAX_SAFE_INTEGER;

describe("AppendInput", () => {
  // S2-API.md §12.2: one record with body "hi".
  const SPEC_EXAMPLE = bytes(0x0a, 0x04, 0x1a, 0x02, 0x68, 0x69);

  it("encodes the spec example byte for byte", () => {
    expect(encodeAppendInput({ records: [{ headers: [], body: utf8("hi") }] })).toEqual(SPEC_EXAMPLE);
  });

  it("decodes the spec example with every optional field absent", () => {
    const input = unwrap(decodeAppendInput(SPEC_EXAMPLE));
    expect(input).toStrictEqual({ records: [{ headers: [], body: utf8("hi") }] });
    expect(input).not.toHaveProperty("matchSeqNum");
    expect(input).not.toHaveProperty("fencingToken");
    expect(input.records[0]).not.toHaveProperty("timestamp");
  });

  it("round-trips every field, including duplicate and empty-named headers", () => {
    const input: AppendInput = {
      records: [
        {
          timestamp: 1_700_000_000_123,
          headers: [
            [utf8("k"), utf8("v1")],
            [utf8("k"), utf8("v2")],
            [new Uint8Array(0), utf8("fence")],
          ],
          body: bytes(0, 255, 10),
        },
        { headers: [], body: new Uint8Array(0) },
      ],
      matchSeqNum: 42,
      fencingToken: "tok-é",
    };
    expect(unwrap(decodeAppendInput(encodeAppendInput(input)))).toStrictEqual(input);
  });

  it("keeps match_seq_num = 0 distinct from absent", () => {
    const zero = encodeAppendInput({ records: [], matchSeqNum: 0 });
    expect(zero).toEqual(bytes(0x10, 0x00));
    expect(unwrap(decodeAppendInput(zero))).toStrictEqual({ records: [], matchSeqNum: 0 });
    expect(encodeAppendInput({ records: [] })).toEqual(new Uint8Array(0));
    expect(unwrap(decodeAppendInput(new Uint8Array(0)))).toStrictEqual({ records: [] });
  });

  it("keeps an empty fencing token distinct from absent", () => {
    const empty = encodeAppendInput({ records: [], fencingToken: "" });
    expect(empty).toEqual(bytes(0x1a, 0x00));
    expect(unwrap(decodeAppendInput(empty))).toStrictEqual({ records: [], fencingToken: "" });
  });

  it("keeps a record timestamp of 0 distinct from absent", () => {
    const zero = encodeAppendInput({ records: [{ timestamp: 0, headers: [], body: new Uint8Array(0) }] });
    expect(zero).toEqual(bytes(0x0a, 0x02, 0x08, 0x00));
    expect(unwrap(decodeAppendInput(zero)).records[0]).toStrictEqual({
      timestamp: 0,
      headers: [],
      body: new Uint8Array(0),
    });
  });

  it("clamps u64 values beyond 2^53 - 1 and keeps smaller ones exact", () => {
    const cases: [bigint, number][] = [
      [2n ** 64n - 1n, MAX],
      [2n ** 53n, MAX],
      [2n ** 53n - 1n, MAX],
      [2n ** 32n + 5n, 2 ** 32 + 5],
    ];
    for (const [wire, expected] of cases) {
      const matchSeqNum = [0x10, ...varint(wire)];
      const timestamp = [0x08, ...varint(wire)];
      const record = [0x0a, timestamp.length, ...timestamp];
      const input = unwrap(decodeAppendInput(bytes(...record, ...matchSeqNum)));
      expect(input.matchSeqNum, String(wire)).toBe(expected);
      expect(input.records[0]?.timestamp, String(wire)).toBe(expected);
    }
  });

  it("skips fields this schema does not know, as proto3 requires", () => {
    // Field 5 (varint) on AppendInput and field 9 (bytes) on AppendRecord.
    const input = unwrap(decodeAppendInput(bytes(0x0a, 0x05, 0x4a, 0x01, 0x00, 0x1a, 0x00, 0x28, 0x07)));
    expect(input).toStrictEqual({ records: [{ headers: [], body: new Uint8Array(0) }] });
  });

  it("returns standalone plain Uint8Arrays that do not alias the input", () => {
    const wire = encodeAppendInput({ records: [{ headers: [[utf8("n"), utf8("v")]], body: utf8("body") }] });
    // A Node Buffer input is the case where protobufjs would hand back Buffer slices.
    const record = unwrap(decodeAppendInput(Buffer.from(wire))).records[0]!;
    for (const field of [record.body, ...record.headers[0]!]) {
      expect(Object.getPrototypeOf(field)).toBe(Uint8Array.prototype);
      expect(field.byteOffset).toBe(0);
      expect(field.buffer.byteLength).toBe(field.length);
    }
    wire.fill(0);
    expect(record.body).toEqual(utf8("body"));
    expect(structuredClone(record)).toStrictEqual(record);
  });
});

describe("malformed input is an error, never a throw", () => {
  const cases: [string, Uint8Array][] = [
    ["truncated spec example", bytes(0x0a, 0x04, 0x1a, 0x02, 0x68)],
    ["length beyond the end", bytes(0x0a, 0x7f)],
    ["varint longer than 10 bytes", bytes(0x10, ...new Array<number>(11).fill(0xff))],
    ["records sent as a varint", bytes(0x08, 0x01)],
    ["match_seq_num sent length-delimited", bytes(0x12, 0x01, 0x00)],
    ["record body sent as a varint", bytes(0x0a, 0x02, 0x18, 0x01)],
    ["header name sent as fixed32", bytes(0x0a, 0x07, 0x12, 0x05, 0x0d, 0, 0, 0, 0)],
    ["fencing token that is not UTF-8", bytes(0x1a, 0x01, 0xff)],
    ["reserved wire type 7", bytes(0x0f)],
    ["end group without a start", bytes(0x0c)],
    ["field number 0", bytes(0x00, 0x00)],
  ];
  for (const [name, wire] of cases) {
    it(`rejects ${name}`, () => {
      expect(expectErr(decodeAppendInput(wire))).toMatch(/^invalid protobuf AppendInput: ./);
    });
  }

  it("survives random bytes in every decoder", () => {
    let seed = 0x2545f491;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 24;
    for (let i = 0; i < 2000; i++) {
      const wire = Uint8Array.from({ length: next() % 40 }, next);
      for (const decode of [decodeAppendInput, decodeReadBatch, decodeAppendAck]) {
        const result = decode(wire);
        expect(typeof result.ok).toBe("boolean");
      }
    }
  });
});

describe("ReadBatch", () => {
  const batch: ReadBatch = {
    records: [
      { seqNum: 0, timestamp: 0, headers: [], body: utf8("a") },
      { seqNum: MAX, timestamp: 1_700_000_000_000, headers: [[utf8(""), utf8("")]], body: new Uint8Array(0) },
    ],
    tail: { seqNum: 2, timestamp: 1_700_000_000_000 },
  };

  it("round-trips records and a live tail", () => {
    expect(unwrap(decodeReadBatch(encodeReadBatch(batch)))).toStrictEqual(batch);
  });

  it("omits tail for catch-up batches", () => {
    const catchUp: ReadBatch = { records: batch.records };
    expect(unwrap(decodeReadBatch(encodeReadBatch(catchUp)))).toStrictEqual(catchUp);
  });

  it("keeps a heartbeat's tail at position 0 present", () => {
    const heartbeat: ReadBatch = { records: [], tail: { seqNum: 0, timestamp: 0 } };
    expect(encodeReadBatch(heartbeat)).toEqual(bytes(0x12, 0x00));
    expect(unwrap(decodeReadBatch(bytes(0x12, 0x00)))).toStrictEqual(heartbeat);
  });

  it("returns an exact-size buffer rather than a view into protobufjs's pool", () => {
    const wire = encodeReadBatch(batch);
    expect(wire.byteOffset).toBe(0);
    expect(wire.buffer.byteLength).toBe(wire.length);
  });
});

describe("AppendAck", () => {
  const ack: AppendAck = {
    start: { seqNum: 0, timestamp: 10 },
    end: { seqNum: 3, timestamp: 12 },
    tail: { seqNum: 5, timestamp: 20 },
  };

  it("round-trips", () => {
    expect(unwrap(decodeAppendAck(encodeAppendAck(ack)))).toStrictEqual(ack);
  });

  it("emits all three positions even when they are zero", () => {
    const zero = { seqNum: 0, timestamp: 0 };
    expect(encodeAppendAck({ start: zero, end: zero, tail: zero })).toEqual(
      bytes(0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00),
    );
  });

  it("rejects an ack missing a position", () => {
    expect(expectErr(decodeAppendAck(bytes(0x0a, 0x00, 0x12, 0x00)))).toContain("required");
  });
});

// The real client is the judge of wire compatibility (STYLE.md §2.6).
describe("interop with the @s2-dev/streamstore codec", () => {
  it("decodes what the SDK encodes, presence included", () => {
    const wire = sdk.AppendInput.toBinary({
      records: [
        { timestamp: 0n, headers: [{ name: utf8("h"), value: utf8("v") }], body: utf8("x") },
        { headers: [], body: utf8("y") },
      ],
      matchSeqNum: 0n,
    });
    expect(unwrap(decodeAppendInput(wire))).toStrictEqual({
      records: [
        { timestamp: 0, headers: [[utf8("h"), utf8("v")]], body: utf8("x") },
        { headers: [], body: utf8("y") },
      ],
      matchSeqNum: 0,
    });
  });

  it("encodes what the SDK decodes", () => {
    const read = sdk.ReadBatch.fromBinary(
      encodeReadBatch({
        records: [{ seqNum: 7, timestamp: 8, headers: [[utf8("h"), utf8("v")]], body: utf8("z") }],
        tail: { seqNum: 8, timestamp: 9 },
      }),
    );
    expect(read.records[0]?.seqNum).toBe(7n);
    expect(read.records[0]?.timestamp).toBe(8n);
    expect(read.records[0]?.headers[0]?.value).toEqual(utf8("v"));
    expect(read.tail).toEqual({ seqNum: 8n, timestamp: 9n });

    const acked = sdk.AppendAck.fromBinary(
      encodeAppendAck({
        start: { seqNum: 1, timestamp: 2 },
        end: { seqNum: 3, timestamp: 4 },
        tail: { seqNum: 5, timestamp: 6 },
      }),
    );
    expect(acked.end).toEqual({ seqNum: 3n, timestamp: 4n });
    expect(acked.tail).toEqual({ seqNum: 5n, timestamp: 6n });
  });
});
