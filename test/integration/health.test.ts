import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

// Proves the workers project boots the real worker (bindings, DO classes, R2) inside workerd.
// `exports` is untyped until `wrangler types` declares the main module, hence the narrow cast.
const worker = (exports as unknown as { default: { fetch(input: string, init?: RequestInit): Promise<Response> } }).default;

describe("worker in workerd", () => {
  it("GET /health answers 200", async () => {
    const res = await worker.fetch("http://localhost/health");
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe("OK");
  });
});
