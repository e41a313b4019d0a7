// The local HTTP/1.1 + h2c front of `npm start` (scripts/local-front.mjs) in front of a small Node upstream:
// protocol sniffing (also with a preface split across packets), header mapping, full-duplex bodies over h2,
// cancellation reaching the upstream, and a 502 when the upstream is down.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFront, type Front } from "../../scripts/local-front.mjs";

let upstream: http.Server;
let front: Front;
let frontUrl: string;
/** Resolved when the upstream sees a /hang request end before its response did. */
let hangAborted: Promise<void>;
let onHangAborted: () => void = () => undefined;

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === "/echo") {
    // Answers at once and echoes each chunk as it arrives: a full-duplex exchange.
    res.writeHead(200, { "content-type": "application/octet-stream", "x-upstream": "yes" });
    res.flushHeaders();
    req.on("data", (chunk) => res.write(chunk));
    req.on("end", () => res.end());
    return;
  }
  if (req.url === "/hang") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("started");
    res.on("close", () => {
      if (!res.writableEnded) onHangAborted();
    });
    return;
  }
  const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
  res.writeHead(200, { "content-type": "application/json", connection: "keep-alive", "x-upstream": "yes" });
  res.end(body);
}

beforeAll(async () => {
  upstream = http.createServer(handle);
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const address = upstream.address() as net.AddressInfo;
  front = await startFront({ host: "127.0.0.1", port: 0, upstream: { host: "127.0.0.1", port: address.port } });
  frontUrl = `http://127.0.0.1:${front.port}`;
});

afterAll(async () => {
  await front.close();
  await new Promise((resolve) => upstream.close(resolve));
});

function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, options: http2.ClientSessionRequestOptions = {}) {
  const stream = session.request(headers, options);
  const response = new Promise<http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader>((resolve, reject) => {
    stream.once("response", resolve);
    stream.once("error", reject);
  });
  return { stream, response };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk;
  return text;
}

describe("local front: HTTP/1.1", () => {
  it("passes requests through untouched, Host included", async () => {
    const res = await fetch(`${frontUrl}/headers?x=1`, { headers: { "x-custom": "v" } });
    expect(res.status).toBe(200);
    const seen = await res.json();
    expect(seen).toMatchObject({ method: "GET", url: "/headers?x=1", headers: { host: `127.0.0.1:${front.port}`, "x-custom": "v" } });
  });

  it("passes a request whose first bytes resemble the h2 preface (`P…`) through as HTTP/1.1", async () => {
    const res = await fetch(`${frontUrl}/echo`, { method: "PUT", body: "payload" });
    expect(await res.text()).toBe("payload");
  });
});

describe("local front: h2c with prior knowledge", () => {
  it("proxies a request as HTTP/1.1: method, path, :authority as Host, no connection headers back", async () => {
    const session = http2.connect(frontUrl);
    const { stream, response } = h2Request(session, { ":method": "GET", ":path": "/headers?q=2", "x-custom": "v" });
    const head = await response;
    const seen = JSON.parse(await readAll(stream));
    session.close();
    expect(head[":status"]).toBe(200);
    expect(head["x-upstream"]).toBe("yes");
    expect(head.connection).toBeUndefined();
    expect(seen).toMatchObject({ method: "GET", url: "/headers?q=2", headers: { host: `127.0.0.1:${front.port}`, "x-custom": "v" } });
  });

  it("is full duplex: each chunk comes back before the request body ends", async () => {
    const session = http2.connect(frontUrl);
    const { stream, response } = h2Request(session, { ":method": "POST", ":path": "/echo" });
    expect((await response)[":status"]).toBe(200);
    for (const word of ["one", "two", "three"]) {
      stream.write(word);
      const echoed = await new Promise<string>((resolve) => stream.once("data", (chunk: Buffer) => resolve(chunk.toString())));
      expect(echoed).toBe(word);
    }
    stream.end();
    await new Promise((resolve) => stream.once("end", resolve).resume());
    session.close();
  });

  it("aborts the upstream request when the client resets its stream", async () => {
    hangAborted = new Promise((resolve) => (onHangAborted = resolve));
    const session = http2.connect(frontUrl);
    const { stream, response } = h2Request(session, { ":method": "GET", ":path": "/hang" });
    await response;
    await new Promise((resolve) => stream.once("data", resolve));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await expect(Promise.race([hangAborted.then(() => "aborted"), new Promise((r) => setTimeout(() => r("still open"), 3000))])).resolves.toBe("aborted");
    session.close();
  });

  it("recognizes the preface even when it arrives in pieces", async () => {
    const socket = net.connect(front.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
    socket.write(preface.subarray(0, 3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(preface.subarray(3));
    socket.write(Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0])); // an empty SETTINGS frame
    const first = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
    socket.destroy();
    expect(first[3], "the server's first frame is SETTINGS").toBe(0x04);
  });
});

describe("local front: upstream down", () => {
  it("answers h2 requests with 502 and a JSON error", async () => {
    const closed = await startFront({ host: "127.0.0.1", port: 0, upstream: { host: "127.0.0.1", port: await unusedPort() } });
    try {
      const session = http2.connect(`http://127.0.0.1:${closed.port}`);
      const { stream, response } = h2Request(session, { ":method": "GET", ":path": "/x" });
      expect((await response)[":status"]).toBe(502);
      expect(JSON.parse(await readAll(stream))).toMatchObject({ code: "other" });
      session.close();
    } finally {
      await closed.close();
    }
  });
});

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
