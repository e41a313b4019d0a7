// Unary HTTP compression (src/http/compression.ts, spec §1.6) and where a WebSocket upgrade may carry its token
// (authorizationOf): the pieces that decide, tested without a server.
import { Hono } from "hono";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { authorizationOf } from "../../src/http/auth/authenticate";
import { clientAcceptEncoding, compressResponses, requestEncoding } from "../../src/http/compression";

describe("requestEncoding", () => {
  it("maps the supported codings and treats none/identity as uncompressed", () => {
    expect(requestEncoding(undefined)).toEqual({ ok: true, value: "none" });
    expect(requestEncoding("identity")).toEqual({ ok: true, value: "none" });
    expect(requestEncoding(" GZIP ")).toEqual({ ok: true, value: "gzip" });
    expect(requestEncoding("x-gzip")).toEqual({ ok: true, value: "gzip" });
    expect(requestEncoding("zstd")).toEqual({ ok: true, value: "zstd" });
  });

  it("refuses other and stacked codings", () => {
    for (const value of ["br", "deflate", "gzip, zstd", "compress"]) expect(requestEncoding(value).ok, value).toBe(false);
  });
});

describe("clientAcceptEncoding", () => {
  it("prefers Cloudflare's record of what the client sent over the rewritten header", () => {
    const withCf = (original: string) => {
      const request = new Request("http://x/", { headers: { "accept-encoding": "br, gzip" } });
      Object.defineProperty(request, "cf", { value: { clientAcceptEncoding: original } });
      return request;
    };
    expect(clientAcceptEncoding(withCf("zstd"))).toBe("zstd");
    // An empty original means the client sent none, even though the platform added one.
    expect(clientAcceptEncoding(withCf(""))).toBe("");
  });

  it("falls back to the header outside Cloudflare", () => {
    expect(clientAcceptEncoding(new Request("http://x/", { headers: { "accept-encoding": "gzip" } }))).toBe("gzip");
    expect(clientAcceptEncoding(new Request("http://x/"))).toBeUndefined();
  });
});

describe("compressResponses", () => {
  const big = { records: Array.from({ length: 50 }, (_, i) => ({ seq_num: i, body: "y".repeat(40) })) };
  const app = new Hono();
  app.use("*", compressResponses);
  app.get("/big", (c) => c.json(big));
  app.get("/small", (c) => c.json({ ok: true }));
  app.get("/proto", () => new Response(new Uint8Array(4096).fill(7), { headers: { "content-type": "application/protobuf" } }));
  app.get("/sse", () => new Response("data: " + "z".repeat(4096) + "\n\n", { headers: { "content-type": "text/event-stream" } }));
  app.get("/s2s", () => new Response(new Uint8Array(4096), { headers: { "content-type": "s2s/proto" } }));
  app.get("/error", (c) => c.json({ code: "x", message: "m".repeat(2000) }, 404));

  const get = (path: string, acceptEncoding?: string) =>
    app.request(path, acceptEncoding === undefined ? {} : { headers: { "accept-encoding": acceptEncoding } });

  it("compresses JSON over 1 KiB with zstd when listed anywhere, else gzip", async () => {
    const zstd = await get("/big", "gzip, zstd");
    expect(zstd.headers.get("content-encoding")).toBe("zstd");
    expect(zstd.headers.get("vary")).toMatch(/accept-encoding/i);
    expect(JSON.parse(Buffer.from(zstdDecompressSync(Buffer.from(await zstd.arrayBuffer()))).toString())).toEqual(big);
    const gzip = await get("/big", "gzip;q=0.5, br");
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    expect(JSON.parse(gunzipSync(Buffer.from(await gzip.arrayBuffer())).toString())).toEqual(big);
  });

  it("compresses protobuf bodies and error bodies alike, keeping the status", async () => {
    const proto = await get("/proto", "zstd");
    expect(proto.headers.get("content-encoding")).toBe("zstd");
    expect(new Uint8Array(zstdDecompressSync(Buffer.from(await proto.arrayBuffer())))).toEqual(new Uint8Array(4096).fill(7));
    const error = await get("/error", "gzip");
    expect(error.status).toBe(404);
    expect(error.headers.get("content-encoding")).toBe("gzip");
    expect(error.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("leaves small bodies, clients without a shared coding, SSE and S2S alone", async () => {
    expect((await get("/small", "zstd")).headers.get("content-encoding")).toBeNull();
    expect(await (await get("/small", "zstd")).json()).toEqual({ ok: true });
    expect((await get("/big")).headers.get("content-encoding")).toBeNull();
    expect((await get("/big", "br, deflate")).headers.get("content-encoding")).toBeNull();
    expect(await (await get("/big", "identity")).json()).toEqual(big);
    expect((await get("/sse", "zstd")).headers.get("content-encoding")).toBeNull();
    expect((await get("/s2s", "zstd")).headers.get("content-encoding")).toBeNull();
  });
});

describe("authorizationOf", () => {
  const upgrade = { upgrade: "websocket", connection: "Upgrade" };

  it("takes the Authorization header first, upgrade or not", () => {
    const request = new Request("http://x/v1/s?access_token=query", { headers: { ...upgrade, authorization: "Bearer header" } });
    expect(authorizationOf(request)).toBe("Bearer header");
  });

  it("takes access_token from the query of a WebSocket upgrade without the header", () => {
    expect(authorizationOf(new Request("http://x/v1/s?access_token=abc", { headers: upgrade }))).toBe("Bearer abc");
    expect(authorizationOf(new Request("http://x/v1/s", { headers: upgrade }))).toBeUndefined();
  });

  it("ignores access_token on anything that is not a WebSocket upgrade", () => {
    expect(authorizationOf(new Request("http://x/v1/s?access_token=abc"))).toBeUndefined();
    expect(authorizationOf(new Request("http://x/v1/s?access_token=abc", { headers: { upgrade: "h2c" } }))).toBeUndefined();
  });
});
