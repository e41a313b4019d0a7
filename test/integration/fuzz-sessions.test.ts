// Hostile sessions (S2-API §12; README's WebSocket sessions): S2S append sessions whose bodies are sequences
// of fuzzed frames (wrong lengths, flags, compression bits, compressed garbage, client terminal frames, cut
// frames) around valid ones; S2S and WebSocket read sessions with hostile queries; WebSocket append sessions
// fed fuzzed text and binary messages. Every session must end in well-formed frames or messages whose error,
// if any, is a 4xx; never a 5xx, a hang or a crash. Sessions whose first input is invalid by construction are
// aimed at a canary stream, which must not change at all.
import fc from "fast-check";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { compress } from "../../src/protocol/compression";
import { decodeAppendAck, decodeReadBatch, encodeAppendInput } from "../../src/protocol/s2/proto";
import { encodeFrame } from "../../src/protocol/s2/s2s";
import { hostileJsonArb, jsonAppendArb, protoBytesArb, queryArb } from "./fuzz-arbitraries";
import { Fuzzer, validAuth, type FuzzRequest } from "./fuzz-support";
import { call, createBasin, createStream, expectStatus } from "./helpers";

const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;
const BASIN = "fuzz-sessions-01";
const CANARY = "canary";
const fuzzer = new Fuzzer();
const seed = Number(process.env.EDGESTREAM_FUZZ_SEED ?? Date.now() % 2 ** 31);
const params = (numRuns: number) => ({ numRuns, seed, endOnFailure: true });
const enc = new TextEncoder();

async function canarySnapshot(): Promise<string> {
  const res = await call(`/streams/${CANARY}/records?seq_num=0`, { basin: BASIN, headers: { accept: "application/protobuf" } });
  const batch = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
  if (!batch.ok) throw new Error(batch.error);
  const tail = await expectStatus(await call(`/streams/${CANARY}/records/tail`, { basin: BASIN }), 200);
  return JSON.stringify({ records: batch.value.records.map((r) => [r.seqNum, r.timestamp, [...r.body]]), tail });
}

let before: string;

beforeAll(async () => {
  await createBasin(BASIN, { create_stream_on_append: true, create_stream_on_read: true });
  await createStream(BASIN, CANARY);
  await expectStatus(await call(`/streams/${CANARY}/records`, { method: "POST", basin: BASIN, json: { records: [{ body: "a" }, { body: "b" }] } }), 200);
  before = await canarySnapshot();
});

/** Frame bytes by hand: length (3 B BE, of flags + payload), flags, payload. */
function rawFrame(length: number, flags: number, payload: Uint8Array): Uint8Array {
  return new Uint8Array([(length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff, flags & 0xff, ...payload]);
}

const validInput = (body: string) => encodeAppendInput({ records: [{ headers: [], body: enc.encode(body) }] });

const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(protoBytesArb, fc.constantFrom("none", "gzip", "zstd") as fc.Arbitrary<"none" | "gzip" | "zstd">)
    .map(([payload, c]) => encodeFrame(compress(payload, c), c)) },
  { weight: 2, arbitrary: fc.tuple(fc.oneof(fc.constant(-1), fc.nat(0xffffff), fc.constantFrom(0, 1, 2, 2 * 1024 * 1024, 2 * 1024 * 1024 + 1)), fc.nat(255), fc.uint8Array({ maxLength: 64 }))
    .map(([length, flags, payload]) => rawFrame(length < 0 ? payload.length + 1 : length, flags, payload)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0x20, 0x40, 0x60), fc.uint8Array({ maxLength: 64 })).map(([flags, garbage]) => rawFrame(garbage.length + 1, flags, garbage)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 599 }), hostileJsonArb).map(([status, body]) => {
    const text = enc.encode(JSON.stringify(body) ?? "null");
    return rawFrame(text.length + 3, 0x80, new Uint8Array([status >> 8, status & 0xff, ...text]));
  }) },
);

/** A session body: frames, perhaps with the last one cut short. */
const sessionBodyArb = fc.tuple(fc.array(frameArb, { maxLength: 6 }), fc.nat(), fc.boolean()).map(([frames, cut, cutLast]) => {
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    bytes.set(f, o);
    o += f.length;
  }
  return cutLast && bytes.length > 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
});

const s2sAppend = (stream: string, body: Uint8Array, extra: Record<string, string> = {}): FuzzRequest => ({
  method: "POST", path: `/v1/streams/${stream}/records`, body,
  headers: { ...validAuth, "s2-basin": BASIN, "content-type": "s2s/proto", ...extra },
});

describe("fuzz: S2S sessions", () => {
  it("append sessions of fuzzed frames: well-formed acks and terminal frames, never a 5xx", { timeout: 120_000 }, async () => {
    const arb = fc.tuple(fc.constantFrom("target", "other", "fresh"), fc.nat(), sessionBodyArb, fc.constantFrom("zstd", "gzip", "", "br"))
      .map(([name, n, body, ae]) => s2sAppend(name === "fresh" ? `fresh-${n % 1000}` : name, body, ae ? { "accept-encoding": ae } : {}));
    await fc.assert(fc.asyncProperty(arb, async (request) => {
      await fuzzer.check(request);
    }), params(700));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it("read sessions with hostile queries: frames, heartbeats, terminal errors, all well-formed", { timeout: 60_000 }, async () => {
    const arb = fc.tuple(fc.constantFrom(CANARY, "target", "missing"), queryArb, fc.constantFrom("zstd", "gzip", "")).map(([name, query, ae]): FuzzRequest => ({
      method: "GET", path: `/v1/streams/${name}/records?${query}`,
      headers: { ...validAuth, "s2-basin": BASIN, "content-type": "s2s/proto", ...(ae ? { "accept-encoding": ae } : {}) },
    }));
    await fc.assert(fc.asyncProperty(arb, async (request) => {
      await fuzzer.check(request);
    }), params(150));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it("sessions whose first input is invalid leave the canary untouched", { timeout: 60_000 }, async () => {
    const breakers: ((n: number) => Uint8Array)[] = [
      () => rawFrame(0, 0, new Uint8Array()),
      (n) => { const p = validInput(`x${n}`); return rawFrame(p.length + 1, 0x60, p); },
      (n) => { const p = validInput(`x${n}`); return rawFrame(p.length + 1, 0x80, p); },
      () => rawFrame(2 * 1024 * 1024 + 1, 0, new Uint8Array(16)),
      (n) => { const p = new Uint8Array([...validInput(`x${n}`), 0x0f]); return rawFrame(p.length + 1, 0, p); },
      (n) => { const p = enc.encode(`not zstd at all ${n}`); return rawFrame(p.length + 1, 0x20, p); },
      () => encodeFrame(encodeAppendInput({ records: [] })),
      (n) => encodeFrame(encodeAppendInput({ records: [{ headers: [], body: enc.encode("x") }], matchSeqNum: 3 + (n % 100) })),
      (n) => encodeFrame(encodeAppendInput({ records: [{ headers: [], body: enc.encode("x") }], fencingToken: `wrong-${n}` })),
      (n) => { const p = validInput(`x${n}`); return encodeFrame(p).subarray(0, 1 + (n % (p.length + 3))); },
    ];
    const arb = fc.tuple(fc.nat({ max: breakers.length - 1 }), fc.nat(), fc.array(fc.constantFrom("valid", "later"), { maxLength: 3 }))
      .map(([i, n, later]) => {
        const first = breakers[i]!(n);
        // Valid inputs after the bad one: a session stops at its first failure, so none may be applied. (Not
        // after a cut frame, which is only cut if nothing follows: later bytes would complete it.)
        const rest = i === breakers.length - 1 ? [] : later.map((_, k) => encodeFrame(validInput(`after ${k}`)));
        const body = new Uint8Array([...first, ...rest.flatMap((r) => [...r])]);
        return s2sAppend(CANARY, body);
      });
    await fc.assert(fc.asyncProperty(arb, async (request) => {
      await fuzzer.check(request);
    }), params(300));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
    expect(await canarySnapshot()).toBe(before);
  });
});

// ---- WebSocket sessions ----------------------------------------------------------------------------------

interface WsOutcome {
  messages: (string | ArrayBuffer)[];
  closeCode: number | undefined;
}

/** Opens a WebSocket through the Worker, sends `inputs`, and collects what comes back until close or quiet. */
async function wsSession(path: string, inputs: (string | Uint8Array)[]): Promise<WsOutcome | { status: number; text: string }> {
  fuzzer.sent++;
  const res = await worker.fetch(`http://localhost${path}`, { headers: { ...validAuth, upgrade: "websocket" } });
  const ws = res.webSocket;
  if (!ws) return { status: res.status, text: await res.text() };
  ws.binaryType = "arraybuffer";
  ws.accept();
  const outcome: WsOutcome = { messages: [], closeCode: undefined };
  let last = Date.now();
  ws.addEventListener("message", (event) => {
    outcome.messages.push(event.data as string | ArrayBuffer);
    last = Date.now();
  });
  const closed = new Promise<void>((resolve) => ws.addEventListener("close", (event) => {
    outcome.closeCode = event.code;
    resolve();
  }));
  for (const input of inputs) ws.send(input);
  const quiet = async () => {
    while (Date.now() - last < 60) await new Promise((r) => setTimeout(r, 15));
  };
  await Promise.race([closed, (async () => {
    await new Promise((r) => setTimeout(r, 20));
    await quiet();
  })()]);
  try {
    ws.close(1000, "fuzz done");
  } catch {
    // closed already
  }
  return outcome;
}

function judgeWs(outcome: WsOutcome | { status: number; text: string }, kind: "append" | "read"): string | undefined {
  if ("status" in outcome) return outcome.status >= 500 ? `upgrade refused with ${outcome.status}: ${outcome.text.slice(0, 200)}` : undefined;
  if (outcome.closeCode !== undefined && (outcome.closeCode === 1011 || outcome.closeCode >= 4500)) return `closed with ${outcome.closeCode}`;
  for (const m of outcome.messages) {
    if (typeof m !== "string") {
      if (kind === "read" || !decodeAppendAck(new Uint8Array(m)).ok) return `undecodable binary message (${m.byteLength} B)`;
      continue;
    }
    let parsed: { type?: string; error?: { code?: string } };
    try {
      parsed = JSON.parse(m);
    } catch {
      return `message is not JSON: ${m.slice(0, 200)}`;
    }
    const types = kind === "append" ? ["ack", "error"] : ["batch", "ping", "error", "done"];
    if (!types.includes(parsed.type ?? "")) return `message type ${parsed.type}`;
    if (parsed.type === "error" && (parsed.error?.code === "other" || parsed.error?.code === "storage")) return `error message ${m.slice(0, 200)}`;
  }
  return undefined;
}

describe("fuzz: WebSocket sessions", () => {
  it("append sessions fed fuzzed text and binary messages", { timeout: 120_000 }, async () => {
    const messageArb = fc.oneof(
      fc.oneof(jsonAppendArb, hostileJsonArb).map((v) => JSON.stringify(v) ?? "null"),
      fc.string({ maxLength: 100 }),
      protoBytesArb,
      fc.uint8Array({ maxLength: 100 }),
    );
    const arb = fc.tuple(fc.constantFrom("target", "ws-other"), fc.constantFrom("raw", "base64", "hex", ""), fc.array(messageArb, { minLength: 1, maxLength: 5 }));
    await fc.assert(fc.asyncProperty(arb, async ([stream, format, messages]) => {
      const path = `/v1/streams/${stream}/records/append?basin=${BASIN}${format ? `&format=${format}` : ""}`;
      const problem = judgeWs(await wsSession(path, messages), "append");
      if (problem) fuzzer.problems.push(`${problem} — ws append ${path}`);
    }), params(400));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it("read sessions with hostile queries", { timeout: 60_000 }, async () => {
    const arb = fc.tuple(fc.constantFrom(CANARY, "target", "missing"), queryArb);
    await fc.assert(fc.asyncProperty(arb, async ([stream, query]) => {
      const path = `/v1/streams/${stream}/records?basin=${BASIN}&${query}`;
      const problem = judgeWs(await wsSession(path, []), "read");
      if (problem) fuzzer.problems.push(`${problem} — ws read ${path}`);
    }), params(100));
    expect(fuzzer.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it("the file sent at least 1,500 sessions and requests, and the canary never changed", async () => {
    fuzzer.expectClean(1_500);
    expect(await canarySnapshot()).toBe(before);
    console.log(`fuzz-sessions: ${fuzzer.sent} sessions, statuses ${JSON.stringify(Object.fromEntries(fuzzer.statuses))}, seed ${seed}`);
  });
});
