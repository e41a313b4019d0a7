import { describe, expect, it } from "vitest";
import { commandRecord } from "../../src/domain/commands";
import { meteredBytes } from "../../src/domain/metering";
import { utf8 } from "../../src/lib/bytes";
import { header, record } from "./support";

// S2-API §8.3: metered(record) = 8 + 2 × headers + Σ(len(name) + len(value)) + len(body).
describe("meteredBytes", () => {
  it("counts an empty record as 8", () => {
    expect(meteredBytes(record())).toBe(8);
  });

  it("adds the body length", () => {
    expect(meteredBytes(record("hello"))).toBe(13);
  });

  it("adds 2 per header plus name and value lengths", () => {
    expect(meteredBytes(record("", [header("k", "v")]))).toBe(8 + 2 + 2);
    expect(meteredBytes(record("body", [header("name", "value"), header("", "")]))).toBe(8 + 4 + 9 + 4);
  });

  it("counts duplicate headers separately", () => {
    const h = header("x", "yy");
    expect(meteredBytes(record("", [h, h, h]))).toBe(8 + 3 * (2 + 3));
  });

  it("counts UTF-8 bytes, not characters", () => {
    // "é" is 2 bytes, "€" is 3, "😀" is 4.
    expect(meteredBytes(record("é€😀"))).toBe(8 + 9);
    expect(meteredBytes(record("", [header("é", "😀")]))).toBe(8 + 2 + 2 + 4);
  });

  it("meters command records with the same formula", () => {
    expect(meteredBytes(commandRecord({ kind: "fence", token: "abc" }))).toBe(18);
    expect(meteredBytes(commandRecord({ kind: "fence", token: "" }))).toBe(15);
    expect(meteredBytes(commandRecord({ kind: "trim", trimPoint: 10 }))).toBe(22);
  });

  it("meters raw bytes of binary bodies", () => {
    expect(meteredBytes({ headers: [[new Uint8Array(3), new Uint8Array(0)]], body: new Uint8Array(1000) })).toBe(8 + 2 + 3 + 1000);
    expect(meteredBytes({ headers: [], body: utf8("\u0000") })).toBe(9);
  });
});
