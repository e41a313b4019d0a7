import { describe, expect, it } from "vitest";
import { checkWebhookUrl, globPrefix, matchesGlob } from "../../src/domain/subscription";
import {
  parseSubscriptionRequest, parseWakeReport, renderSubscription, renderSubscriptionError, renderWakeStreams,
} from "../../src/protocol/ds/subscription-json";
import { retryDelayMs } from "../../src/control/subscription-delivery";
import { unwrap, unwrapErr } from "./support";

describe("subscription globs (PROTOCOL.md §6.2)", () => {
  it("matches one segment with * and any number with **", () => {
    expect(matchesGlob("events/*", "events/a")).toBe(true);
    expect(matchesGlob("events/*", "events/a/b")).toBe(false);
    expect(matchesGlob("events/*", "events")).toBe(false);
    expect(matchesGlob("events/**", "events")).toBe(true);
    expect(matchesGlob("events/**", "events/a/b")).toBe(true);
    expect(matchesGlob("**/x", "a/b/x")).toBe(true);
    expect(matchesGlob("a/*/c", "a/b/c")).toBe(true);
    expect(matchesGlob("a/*/c", "a/b/d")).toBe(false);
    expect(matchesGlob("exact/path", "exact/path")).toBe(true);
  });

  it("narrows backfill listings to the literal prefix", () => {
    expect(globPrefix("events/*")).toBe("events/");
    expect(globPrefix("a/b/**")).toBe("a/b/");
    expect(globPrefix("**")).toBe("");
    expect(globPrefix("exact")).toBe("exact");
  });
});

describe("webhook URLs against SSRF (PROTOCOL.md §12.8)", () => {
  it("takes public https URLs", () => {
    expect(unwrap(checkWebhookUrl("https://hooks.example.com/x", false))).toBe("https://hooks.example.com/x");
  });

  it("refuses http, private, loopback, link-local and metadata targets", () => {
    for (const url of ["http://hooks.example.com/x", "https://10.0.0.1/h", "https://192.168.1.2/h", "https://172.20.0.1/h", "https://127.0.0.1/h",
      "https://169.254.169.254/latest", "https://[::1]/h", "https://[fd00::1]/h", "https://localhost/h", "not a url"]) {
      expect(unwrapErr(checkWebhookUrl(url, false)).code, url).toBe("WEBHOOK_URL_REJECTED");
    }
  });

  it("allows plain http to localhost and 127.0.0.x only in local development", () => {
    expect(checkWebhookUrl("http://127.0.0.1:9999/hook", true).ok).toBe(true);
    expect(checkWebhookUrl("http://localhost/hook", true).ok).toBe(true);
    expect(checkWebhookUrl("http://10.0.0.1/hook", true).ok).toBe(false);
    expect(checkWebhookUrl("http://127.0.0.1:9999/hook", false).ok).toBe(false);
  });
});

describe("subscription JSON (PROTOCOL.md §6–7)", () => {
  const webhook = { type: "webhook", pattern: "events/*", webhook: { url: "https://h.example/x" } };

  it("normalizes configs so equal requests compare equal", () => {
    const config = unwrap(parseSubscriptionRequest({ ...webhook, streams: ["b", "a", "b"] }, false));
    expect(config).toEqual({
      type: "webhook", pattern: "events/*", streams: ["a", "b"], webhookUrl: "https://h.example/x", wakeStream: null,
      leaseTtlMs: 30_000, description: null,
    });
  });

  it("refuses missing targets, delivery details and out-of-range leases", () => {
    for (const body of [{ type: "webhook", webhook: { url: "https://h.example" } }, { type: "pull-wake", pattern: "x" }, { type: "poll", pattern: "x" },
      { ...webhook, lease_ttl_ms: 999 }, { ...webhook, lease_ttl_ms: 600_001 }, { type: "webhook", pattern: "x" }, []]) {
      expect(unwrapErr(parseSubscriptionRequest(body, false)).code, JSON.stringify(body)).toBe("INVALID_REQUEST");
    }
    expect(unwrapErr(parseSubscriptionRequest({ ...webhook, webhook: { url: "http://10.0.0.1/hook" } }, true)).code).toBe("WEBHOOK_URL_REJECTED");
  });

  it("reads acks as seq nums and refuses offsets we never minted", () => {
    const report = unwrap(parseWakeReport({ wake_id: "w", generation: 2, acks: [{ stream: "s", offset: "0000000000000004_0000000000000000" }], done: true }));
    expect(report).toEqual({ wakeId: "w", generation: 2, acks: [{ stream: "s", seqNum: 4 }], done: true });
    expect(parseWakeReport({ wake_id: "w", generation: 2, acks: [{ stream: "s", offset: "4" }] }).ok).toBe(false);
    expect(parseWakeReport({ generation: 2 }).ok).toBe(false);
  });

  it("renders links and wakes with offsets, and never a shared secret", () => {
    const view = {
      id: "sub", config: unwrap(parseSubscriptionRequest(webhook, false)), createdAtMs: 0, failing: false,
      links: [{ path: "events/a", explicit: false, glob: true, ackedSeqNum: 2, tailSeqNum: 5 }], streamRoot: "https://h/v1/stream", kid: "ds_k",
    };
    const rendered = renderSubscription(view);
    expect(rendered.streams).toEqual([{ path: "events/a", link_type: "glob", acked_offset: "0000000000000002_0000000000000000" }]);
    expect(rendered.webhook?.signing).toEqual({ alg: "ed25519", kid: "ds_k", jwks_url: "https://h/v1/stream/__ds/jwks.json" });
    expect(JSON.stringify(rendered)).not.toContain("secret");
    expect(renderWakeStreams(view.links)[0]).toMatchObject({ tail_offset: "0000000000000005_0000000000000000", has_pending: true });
  });

  it("renders errors as the protocol's { error: { code } } bodies", () => {
    expect(renderSubscriptionError({ code: "FENCED", message: "m" })).toEqual({ status: 409, body: '{"error":{"code":"FENCED","message":"m"}}' });
    const claimed = renderSubscriptionError({ code: "ALREADY_CLAIMED", message: "m", currentHolder: "w1", generation: 3 });
    expect(claimed.status).toBe(409);
    expect(JSON.parse(claimed.body).error).toMatchObject({ code: "ALREADY_CLAIMED", current_holder: "w1", generation: 3 });
  });
});

describe("webhook retries (PROTOCOL.md §7.1)", () => {
  it("back off exponentially from 1 s to 60 s, within 20% jitter", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(1000);
    expect(retryDelayMs(3, () => 0.5)).toBe(4000);
    expect(retryDelayMs(20, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(1, () => 0)).toBe(800);
    expect(retryDelayMs(1, () => 1)).toBe(1200);
  });
});
