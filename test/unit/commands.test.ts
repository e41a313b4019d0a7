import { describe, expect, it } from "vitest";
import { commandRecord, parseCommand, type Command } from "../../src/domain/commands";
import { utf8 } from "../../src/lib/bytes";
import { bytes, header, record, unwrap, unwrapErr } from "./support";

// S2-API §8.2: exactly one header with an empty name makes a command record.
const command = (value: string | Uint8Array, body: Uint8Array | string = new Uint8Array()) =>
  parseCommand(record(body, [[new Uint8Array(), typeof value === "string" ? utf8(value) : value]]));

const trimBody = (value: bigint) => {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setBigUint64(0, value);
  return body;
};

describe("parseCommand: ordinary records", () => {
  it("returns undefined for records without an empty header name", () => {
    expect(unwrap(parseCommand(record("x")))).toBeUndefined();
    expect(unwrap(parseCommand(record("", [header("fence", "")])))).toBeUndefined();
    expect(unwrap(parseCommand(record("", [header("a", ""), header("b", "trim")])))).toBeUndefined();
  });
});

describe("parseCommand: fence", () => {
  it("parses the body as the new token", () => {
    expect(unwrap(command("fence", "abc"))).toEqual({ kind: "fence", token: "abc" });
  });

  it("accepts an empty body (clears the token)", () => {
    expect(unwrap(command("fence"))).toEqual({ kind: "fence", token: "" });
  });

  it("accepts exactly 36 bytes and rejects 37", () => {
    expect(unwrap(command("fence", "t".repeat(36)))).toEqual({ kind: "fence", token: "t".repeat(36) });
    expect(unwrapErr(command("fence", "t".repeat(37)))).toMatch(/36/);
  });

  it("counts the token limit in UTF-8 bytes", () => {
    expect(unwrap(command("fence", "é".repeat(18)))).toEqual({ kind: "fence", token: "é".repeat(18) });
    expect(command("fence", "é".repeat(19)).ok).toBe(false); // 38 bytes, 19 chars
  });

  it("rejects a non-UTF-8 body", () => {
    expect(command("fence", bytes(0xff)).ok).toBe(false);
    expect(command("fence", bytes(0x61, 0xc3)).ok).toBe(false);
  });
});

describe("parseCommand: trim", () => {
  it("reads an 8-byte big-endian trim point", () => {
    expect(unwrap(command("trim", trimBody(10n)))).toEqual({ kind: "trim", trimPoint: 10 });
    expect(unwrap(command("trim", trimBody(0n)))).toEqual({ kind: "trim", trimPoint: 0 });
    expect(unwrap(command("trim", trimBody(0x0102030405n)))).toEqual({ kind: "trim", trimPoint: 0x0102030405 });
  });

  it("reads a body that is a view into a larger buffer", () => {
    const backing = new Uint8Array(20);
    backing.set(trimBody(7n), 5);
    expect(unwrap(command("trim", backing.subarray(5, 13)))).toEqual({ kind: "trim", trimPoint: 7 });
  });

  it("clamps trim points beyond 2^53 to the safe maximum", () => {
    expect(unwrap(command("trim", trimBody(2n ** 53n - 1n)))).toEqual({ kind: "trim", trimPoint: Number.MAX_SAFE_INTEGER });
    expect(unwrap(command("trim", trimBody(2n ** 53n)))).toEqual({ kind: "trim", trimPoint: Number.MAX_SAFE_INTEGER });
    expect(unwrap(command("trim", trimBody(2n ** 64n - 1n)))).toEqual({ kind: "trim", trimPoint: Number.MAX_SAFE_INTEGER });
  });

  it("rejects a body that is not exactly 8 bytes", () => {
    for (const length of [0, 1, 7, 9, 16]) {
      expect(command("trim", new Uint8Array(length)).ok, `length ${length}`).toBe(false);
    }
  });
});

describe("parseCommand: malformed commands", () => {
  it("rejects an unknown command value", () => {
    for (const value of ["", "Fence", "TRIM", "fence ", "trim\0", "delete"]) {
      expect(unwrapErr(command(value, "x")), JSON.stringify(value)).toBe("unknown command");
    }
    expect(unwrapErr(command(bytes(0xff)))).toBe("unknown command");
  });

  it("rejects an empty header name together with other headers", () => {
    const empty = header("", "fence");
    expect(unwrapErr(parseCommand(record("", [empty, header("a", "b")])))).toBe("invalid header: empty name");
    expect(unwrapErr(parseCommand(record("", [header("a", "b"), empty])))).toBe("invalid header: empty name");
    expect(unwrapErr(parseCommand(record("", [empty, empty])))).toBe("invalid header: empty name");
  });
});

describe("commandRecord", () => {
  it("builds the wire shape of §8.5's examples", () => {
    const fence = commandRecord({ kind: "fence", token: "abc" });
    expect(fence.headers).toEqual([[new Uint8Array(), utf8("fence")]]);
    expect(fence.body).toEqual(utf8("abc"));
    const trim = commandRecord({ kind: "trim", trimPoint: 10 });
    expect(trim.headers).toEqual([[new Uint8Array(), utf8("trim")]]);
    expect(trim.body).toEqual(bytes(0, 0, 0, 0, 0, 0, 0, 10));
  });

  it("round-trips through parseCommand", () => {
    const commands: Command[] = [
      { kind: "fence", token: "" },
      { kind: "fence", token: "abc" },
      { kind: "fence", token: "ünïcødé-😀" },
      { kind: "fence", token: "x".repeat(36) },
      { kind: "trim", trimPoint: 0 },
      { kind: "trim", trimPoint: 1 },
      { kind: "trim", trimPoint: 2 ** 32 + 5 },
      { kind: "trim", trimPoint: Number.MAX_SAFE_INTEGER },
    ];
    for (const c of commands) expect(unwrap(parseCommand(commandRecord(c)))).toEqual(c);
  });

  it("encodes big trim points big-endian", () => {
    const body = commandRecord({ kind: "trim", trimPoint: Number.MAX_SAFE_INTEGER }).body;
    expect(body).toEqual(bytes(0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
  });
});
