// S2S append sessions (spec §12.1–12.3) over HTTP/1.1 with a streaming (chunked) request body, against the real
// server: pipelined inputs, acks in input order while the body is still open, the first failure ends the session
// with the acks due and one terminal frame, and no failure ever stores anything beyond the acked inputs.
import http, { type ClientRequest, type IncomingMessage } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppendAck, AppendInput } from "../../src/domain/types";
import { concatBytes, utf8 } from "../../src/lib/bytes";
import { compress, type Compression } from "../../src/protocol/compression";
import { decodeAppendAck, decodeReadBatch, encodeAppendInput } from "../../src/protocol/s2/proto";
import { encodeFrame, encodeTerminalFrame, FrameDecoder, openMessage, type Frame } from "../../src/protocol/s2/s2s";
import { rootAuthorization } from "../support/auth";
import { api, baseUrl, basinName, expectErrorBody, jsonOf, streamName } from "../support/s2";

let basin: string;

beforeAll(async () => {
  basin = basinName("s2sapp");
  const res = await api("/basins", { method: "POST", json: { basin, config: { create_stream_on_append: true } } });
  expect(res.status).toBe(201);
});

const recordsPath = (stream: string) => `/streams/${encodeURIComponent(stream)}/records`;

const input = (bodies: string[], extra: Partial<AppendInput> = {}): AppendInput => ({
  records: bodies.map((body) => ({ headers: [], body: utf8(body) })),
  ...extra,
});

const frameOf = (value: AppendInput, compression: Compression = "none") =>
  encodeFrame(compress(encodeAppendInput(value), compression), compression);

async function newStream(): Promise<string> {
  const stream = streamName("app");
  const res = await api("/streams", { method: "POST", basin, json: { stream } });
  expect(res.status).toBe(201);
  return stream;
}

async function tailOf(stream: string): Promise<number> {
  const res = await api(`${recordsPath(stream)}/tail`, { basin });
  expect(res.status).toBe(200);
  return (await jsonOf(res)).tail.seq_num;
}

async function bodiesOf(stream: string): Promise<string[]> {
  const res = await api(`${recordsPath(stream)}?seq_num=0`, { basin, headers: { accept: "application/protobuf" } });
  expect(res.status).toBe(200);
  const batch = decodeReadBatch(new Uint8Array(await res.arrayBuffer()));
  if (!batch.ok) throw new Error(batch.error);
  return batch.value.records.map((record) => new TextDecoder().decode(record.body));
}

/** One append session over node:http: the request body stays open until `end()`; frames are read as they come. */
class Session {
  readonly #decoder = new FrameDecoder();
  readonly #waiters: (() => void)[] = [];
  #ended = false;
  #response: IncomingMessage | undefined;
  readonly response: Promise<IncomingMessage>;

  constructor(readonly request: ClientRequest) {
    // The server stops reading after a terminal frame; writes that race it may fail, which is expected.
    request.on("error", () => undefined);
    this.response = new Promise((resolve, reject) => {
      request.once("response", (res) => {
        this.#response = res;
        res.on("data", (chunk: Buffer) => {
          this.#decoder.push(new Uint8Array(chunk));
          this.#wake();
        });
        res.on("end", () => {
          this.#ended = true;
          this.#wake();
        });
        res.on("error", () => {
          this.#ended = true;
          this.#wake();
        });
        resolve(res);
      });
      request.once("error", reject);
    });
  }

  static open(stream: string, headers: Record<string, string> = {}): Session {
    const request = http.request(`${baseUrl()}/v1${recordsPath(stream)}`, {
      method: "POST",
      headers: { ...rootAuthorization, "s2-basin": basin, "content-type": "s2s/proto", ...headers },
    });
    request.flushHeaders();
    return new Session(request);
  }

  write(bytes: Uint8Array): void {
    this.request.write(bytes);
  }

  end(bytes?: Uint8Array): void {
    this.request.end(bytes);
  }

  /** The next frame, or undefined once the response ended on a frame boundary. */
  async next(timeoutMs = 10_000): Promise<Frame | undefined> {
    await this.response;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const decoded = this.#decoder.next();
      if (!decoded.ok) throw new Error(`bad frame from the server: ${decoded.error}`);
      if (decoded.value) return decoded.value;
      if (this.#ended) {
        const finish = this.#decoder.finish();
        if (!finish.ok) throw new Error(finish.error);
        return undefined;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no frame within the deadline");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async nextAck(): Promise<AppendAck> {
    const frame = await this.next();
    if (!frame || frame.terminal) throw new Error(`expected an ack, got ${JSON.stringify(frame)}`);
    const message = openMessage(frame);
    if (!message.ok) throw new Error(message.error);
    const ack = decodeAppendAck(message.value);
    if (!ack.ok) throw new Error(ack.error);
    return ack.value;
  }

  /** Everything left: acks, then the terminal frame if any, and the end of the body (nothing after). */
  async rest(): Promise<{ acks: AppendAck[]; terminal?: { status: number; body: any } }> {
    const acks: AppendAck[] = [];
    for (;;) {
      const frame = await this.next();
      if (!frame) return { acks };
      if (frame.terminal) {
        expect(await this.next(), "frames after the terminal frame").toBeUndefined();
        return { acks, terminal: { status: frame.status, body: JSON.parse(frame.body) } };
      }
      const message = openMessage(frame);
      if (!message.ok) throw new Error(message.error);
      const ack = decodeAppendAck(message.value);
      if (!ack.ok) throw new Error(ack.error);
      acks.push(ack.value);
    }
  }

  headers(): http.IncomingHttpHeaders {
    return this.#response!.headers;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

const spans = (acks: AppendAck[]) => acks.map((ack) => [ack.start.seqNum, ack.end.seqNum]);

describe("S2S append session", () => {
  it("answers 200 s2s/proto and acks pipelined inputs in order, ending after the last ack", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.end(concatBytes([frameOf(input(["a", "b"])), frameOf(input(["c"])), frameOf(input(["d", "e", "f"]))]));
    expect((await session.response).statusCode).toBe(200);
    expect(session.headers()["content-type"]).toBe("s2s/proto");
    const { acks, terminal } = await session.rest();
    expect(terminal).toBeUndefined();
    expect(spans(acks)).toEqual([[0, 2], [2, 3], [3, 6]]);
    for (const ack of acks) expect(ack.tail.seqNum).toBeGreaterThanOrEqual(ack.end.seqNum);
    expect(await bodiesOf(stream)).toEqual(["a", "b", "c", "d", "e", "f"]);
  });

  it("is full duplex: each ack arrives while the request body is still open", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    for (let i = 0; i < 3; i++) {
      session.write(frameOf(input([`r${i}`])));
      const ack = await session.nextAck();
      expect([ack.start.seqNum, ack.end.seqNum]).toEqual([i, i + 1]);
    }
    session.end();
    expect(await session.next()).toBeUndefined();
    expect(await tailOf(stream)).toBe(3);
  });

  it("evaluates consecutive match_seq_nums of pipelined inputs against the earlier ones", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.end(concatBytes([0, 1, 2, 3, 4].map((n) => frameOf(input([`m${n}`], { matchSeqNum: n })))));
    const { acks, terminal } = await session.rest();
    expect(terminal).toBeUndefined();
    expect(spans(acks)).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
  });

  it("accepts zstd and gzip compressed inputs, small and large", async () => {
    const stream = await newStream();
    const big = "z".repeat(4096);
    const session = Session.open(stream, { "accept-encoding": "zstd" });
    session.end(concatBytes([frameOf(input([big]), "zstd"), frameOf(input(["g"]), "gzip"), frameOf(input([big]), "gzip")]));
    const { acks, terminal } = await session.rest();
    expect(terminal).toBeUndefined();
    expect(spans(acks)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(await bodiesOf(stream)).toEqual([big, "g", big]);
  });

  it("stops at a failed match_seq_num: earlier acks, terminal 412 with the tail, nothing after applied", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.end(concatBytes([
      frameOf(input(["a"], { matchSeqNum: 0 })),
      frameOf(input(["b", "c"])),
      frameOf(input(["x"], { matchSeqNum: 1 })),
      frameOf(input(["never"])),
    ]));
    const { acks, terminal } = await session.rest();
    expect(spans(acks)).toEqual([[0, 1], [1, 3]]);
    expect(terminal).toEqual({ status: 412, body: { seq_num_mismatch: 3 } });
    expect(await tailOf(stream)).toBe(3);
    expect(await bodiesOf(stream)).toEqual(["a", "b", "c"]);
  });

  it("stops at a fencing token mismatch with 412 and the current token", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.end(concatBytes([frameOf(input(["a"])), frameOf(input(["b"], { fencingToken: "nope" })), frameOf(input(["c"]))]));
    const { acks, terminal } = await session.rest();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(terminal).toEqual({ status: 412, body: { fencing_token_mismatch: "" } });
    expect(await tailOf(stream)).toBe(1);
  });

  it("stops at an invalid input (empty batch) with 422 invalid", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.end(concatBytes([frameOf(input(["a"])), frameOf(input([])), frameOf(input(["c"]))]));
    const { acks, terminal } = await session.rest();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(terminal?.status).toBe(422);
    expect(terminal?.body).toMatchObject({ code: "invalid" });
    expect(await tailOf(stream)).toBe(1);
  });

  const frameErrors: [string, Uint8Array][] = [
    ["a zero-length frame", new Uint8Array([0, 0, 0])],
    ["compression bits 11", new Uint8Array([0, 0, 3, 0x60, 0x0a, 0x00])],
    ["a terminal frame from the client", encodeTerminalFrame(400, "{}")],
    ["a corrupt gzip payload", encodeFrame(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), "gzip")],
    ["a message decompressing beyond 2 MiB", encodeFrame(compress(new Uint8Array(3 * 1024 * 1024), "zstd"), "zstd")],
  ];
  for (const [what, bad] of frameErrors) {
    it(`answers ${what} with the acks due, then 400 bad_frame, and writes nothing more`, async () => {
      const stream = await newStream();
      const session = Session.open(stream);
      session.end(concatBytes([frameOf(input(["ok"])), bad, frameOf(input(["never"]))]));
      const { acks, terminal } = await session.rest();
      expect(spans(acks)).toEqual([[0, 1]]);
      expect(terminal?.status).toBe(400);
      expect(terminal?.body).toMatchObject({ code: "bad_frame" });
      expect(await tailOf(stream)).toBe(1);
    });
  }

  it("answers a frame truncated by the end of the body with 400 bad_frame", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    const cut = frameOf(input(["partial"])).subarray(0, 6);
    session.end(concatBytes([frameOf(input(["ok"])), cut]));
    const { acks, terminal } = await session.rest();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(terminal?.body).toMatchObject({ code: "bad_frame" });
    expect(terminal?.body.message).toMatch(/ended inside a frame/);
    expect(await tailOf(stream)).toBe(1);
  });

  it("refuses an oversized frame from its header alone, before its payload arrives", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.write(frameOf(input(["ok"])));
    // length 2 MiB + 1: no payload follows, yet the terminal frame must come.
    session.write(new Uint8Array([0x20, 0x00, 0x01, 0x00]));
    const { acks, terminal } = await session.rest();
    session.end();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(terminal?.status).toBe(400);
    expect(terminal?.body).toMatchObject({ code: "bad_frame" });
    expect(await tailOf(stream)).toBe(1);
  });

  it("answers a payload that is not an AppendInput with 400 bad_proto", async () => {
    const stream = await newStream();
    const session = Session.open(stream);
    session.end(concatBytes([frameOf(input(["ok"])), encodeFrame(new Uint8Array([0x0a, 0x05, 0xff])), frameOf(input(["never"]))]));
    const { acks, terminal } = await session.rest();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(terminal?.status).toBe(400);
    expect(terminal?.body).toMatchObject({ code: "bad_proto" });
    expect(await tailOf(stream)).toBe(1);
  });

  it("creates a missing stream when the basin says create_stream_on_append", async () => {
    const stream = streamName("auto");
    const session = Session.open(stream);
    session.end(frameOf(input(["first"])));
    const { acks, terminal } = await session.rest();
    expect(terminal).toBeUndefined();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(await bodiesOf(stream)).toEqual(["first"]);
  });

  it("answers a missing stream with an HTTP 404 before the session starts", async () => {
    const plain = basinName("s2snoauto");
    expect((await api("/basins", { method: "POST", json: { basin: plain } })).status).toBe(201);
    const request = http.request(`${baseUrl()}/v1${recordsPath("missing")}`, {
      method: "POST",
      headers: { ...rootAuthorization, "s2-basin": plain, "content-type": "s2s/proto" },
    });
    request.end(frameOf(input(["x"])));
    const res = await new Promise<IncomingMessage>((resolve, reject) => request.once("response", resolve).once("error", reject));
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    await expectErrorBody(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers: { "content-type": res.headers["content-type"] ?? "" } }), 404, "stream_not_found");
  });

  it("authorizes command records per input: a token without `trim` gets 403 at the trim, after earlier acks", async () => {
    const stream = await newStream();
    const issued = await api("/access-tokens", {
      method: "POST",
      json: { id: `s2s-${crypto.randomUUID().slice(0, 8)}`, scope: { basins: { exact: basin }, streams: { exact: stream }, ops: ["append"] } },
    });
    expect(issued.status).toBe(201);
    const token = (await jsonOf(issued)).access_token as string;
    const trim: AppendInput = { records: [{ headers: [[new Uint8Array(), utf8("trim")]], body: new Uint8Array(8) }] };
    const session = Session.open(stream, { authorization: `Bearer ${token}` });
    session.end(concatBytes([frameOf(input(["a"])), frameOf(trim), frameOf(input(["never"]))]));
    const { acks, terminal } = await session.rest();
    expect(spans(acks)).toEqual([[0, 1]]);
    expect(terminal?.status).toBe(403);
    expect(terminal?.body).toMatchObject({ code: "permission_denied" });
    expect(await tailOf(stream)).toBe(1);
  });

  it("refuses a session without a token with 401 before it starts", async () => {
    const stream = await newStream();
    const res = await fetch(`${baseUrl()}/v1${recordsPath(stream)}`, {
      method: "POST",
      headers: { "s2-basin": basin, "content-type": "s2s/proto" },
      body: frameOf(input(["x"])),
    });
    await expectErrorBody(res, 401, "authn");
    expect(await tailOf(stream)).toBe(0);
  });
});
