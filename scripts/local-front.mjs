// The local front of `npm start`: one public port that answers both HTTP/1.1 and HTTP/2 cleartext (h2c with
// prior knowledge), in front of the worker (Miniflare, scripts/local-server.mjs) on an internal loopback port.
//
// Why: workerd serves only HTTP/1.1 locally (PLATFORM.md §4), but the S2 TypeScript SDK in Node opens its
// append and read sessions as S2S over HTTP/2, h2c for `http://` endpoints (S2-API §12, §19.13). With this
// front the SDK works against `npm start` with default settings; browsers, curl and fetch keep HTTP/1.1.
//
//   client ──TCP──▶ front :PORT ──┬─ first bytes are the h2 preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
//                                 │    → node:http2 session; each stream is proxied as one HTTP/1.1 request
//                                 │      (chunked body) to the worker, bodies streamed both ways at once
//                                 └─ anything else → a raw TCP pipe to the worker (HTTP/1.1, WebSocket upgrades
//                                      and full-duplex chunked bodies pass through untouched)
//
// Full duplex matters for S2S append sessions: acks stream back while the client is still sending inputs.
// Cancellation propagates: a client that resets its h2 stream aborts the upstream request, which ends the
// worker's session. The front holds no state and never buffers a whole body.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

/** RFC 9113 §3.4: the client connection preface that starts every HTTP/2 connection with prior knowledge. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Connection-specific headers: meaningful for one hop only, and forbidden in HTTP/2 (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "http2-settings", "host",
]);

/** Flow-control windows for data the clients send us: large enough that pipelined appends are not throttled. */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Starts the front. `upstream` is the worker's loopback address. Resolves once listening, with the bound
 * port (useful with `port: 0`) and `close()`, which stops accepting and ends open connections.
 *
 * @param {{ host: string, port: number, upstream: { host: string, port: number }, log?: (line: string) => void }} options
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startFront({ host, port, upstream, log = () => {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const sockets = new Set();
  const h2 = http2.createServer({ settings: { initialWindowSize: STREAM_WINDOW_BYTES } });
  h2.on("session", (session) => {
    session.on("connect", () => {
      try {
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      } catch {
        // Only a performance setting.
      }
    });
    session.on("error", (err) => log(`h2 session error: ${err.message}`));
  });
  h2.on("stream", (stream, headers) => proxyStream(stream, headers, upstream, agent, log));

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    sniff(socket, (isH2) => (isH2 ? h2.emit("connection", socket) : pipeToUpstream(socket, upstream)));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve(undefined));
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      }),
  };
}

/**
 * Reads just enough of a new connection to tell HTTP/2 from HTTP/1.1, then puts the bytes back and hands the
 * socket on. An HTTP/1.1 request line differs from the preface within its first four bytes ("PRI " is not an
 * HTTP/1.1 method), so at most 24 bytes are held.
 */
function sniff(socket, decide) {
  let buffered = Buffer.alloc(0);
  const finish = (isH2) => {
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.pause();
    socket.unshift(buffered);
    decide(isH2);
  };
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, H2_PREFACE.length);
    if (!buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) finish(false);
    else if (buffered.length >= H2_PREFACE.length) finish(true);
  };
  const onEnd = () => socket.destroy();
  socket.on("data", onData);
  socket.on("end", onEnd);
}

/** HTTP/1.1 (and anything that is not h2): bytes both ways, untouched, half-closes included. */
function pipeToUpstream(socket, upstream) {
  const up = net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true, noDelay: true });
  const destroyBoth = () => {
    socket.destroy();
    up.destroy();
  };
  up.on("error", destroyBoth);
  socket.on("error", destroyBoth);
  up.on("close", () => socket.destroy());
  socket.on("close", () => up.destroy());
  socket.pipe(up);
  up.pipe(socket);
  socket.resume();
}

/** One h2 stream as one HTTP/1.1 request upstream; both bodies stream, neither waits for the other to end. */
function proxyStream(stream, headers, upstream, agent, log) {
  const outgoing = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || HOP_BY_HOP.has(name)) continue;
    outgoing[name] = value;
  }
  outgoing.host = headers[":authority"] ?? headers.host ?? `${upstream.host}:${upstream.port}`;
  const request = http.request({
    host: upstream.host,
    port: upstream.port,
    method: headers[":method"],
    path: headers[":path"],
    headers: outgoing,
    agent,
  });
  let responded = false;

  request.on("response", (response) => {
    if (stream.destroyed) return void response.destroy();
    const head = { ":status": response.statusCode };
    for (const [name, value] of Object.entries(response.headers)) {
      if (!HOP_BY_HOP.has(name)) head[name] = value;
    }
    responded = true;
    stream.respond(head);
    response.pipe(stream);
    response.on("error", () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    response.on("end", () => {
      // The answer is complete. A client may still be sending (an append session the server ended with a
      // terminal frame): drop the upstream request and discard the rest, rather than reset the stream, which
      // could discard the answer's last frames still queued for the client.
      if (!stream.readableEnded) {
        stream.unpipe(request);
        request.destroy();
        stream.resume();
      }
    });
  });
  request.on("error", (err) => {
    if (stream.destroyed) return;
    if (!responded && !stream.headersSent) {
      log(`upstream request failed: ${err.message}`);
      stream.respond({ ":status": 502, "content-type": "application/json" });
      stream.end(JSON.stringify({ code: "other", message: `local front: upstream unavailable (${err.message})` }));
    } else if (!stream.writableEnded) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  });
  // The client went away (or reset the stream) before the answer finished: abort upstream too.
  stream.on("close", () => {
    if (!request.destroyed && !(request.res?.complete ?? false)) request.destroy();
  });
  stream.on("error", () => request.destroy());

  if (stream.endAfterHeaders) {
    request.end();
  } else {
    // Send the head now: a session's server may answer before the first body byte.
    request.flushHeaders();
    stream.pipe(request);
  }
}
