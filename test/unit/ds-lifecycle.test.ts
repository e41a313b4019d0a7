import { describe, expect, it } from "vitest";
import {
  defaultLifecycle, expiresAtMs, isExpired, isJsonType, matchesSpec, mediaType, newLifecycle, TTL_GRACE_MS, type CreateSpec,
} from "../../src/domain/lifecycle";
import { renderDsError } from "../../src/protocol/ds/errors";
import { renderS2Error } from "../../src/protocol/s2/errors";
import { planAppends, EMPTY_STREAM_STATE } from "../../src/domain/append";
import { SYSTEM_STREAM_DEFAULTS } from "../../src/domain/config";
import { unwrap, unwrapErr } from "./support";

const NOW = 1_700_000_000_000;
const spec = (over: Partial<CreateSpec> = {}): CreateSpec =>
  ({ contentType: "text/plain", ttlSecs: null, expiresAt: null, closed: false, fork: null, ...over });

describe("content types (PROTOCOL.md §9)", () => {
  it("compare by media type; JSON mode is exactly application/json", () => {
    expect(mediaType(" Text/Plain ; charset=utf-8")).toBe("text/plain");
    expect(isJsonType("application/json; charset=utf-8")).toBe(true);
    expect(isJsonType("application/ndjson")).toBe(false);
    expect(isJsonType("application/vnd.x+json")).toBe(false);
  });
});

describe("idempotent create (PROTOCOL.md §5.1, §4.2)", () => {
  const existing = newLifecycle(spec({ ttlSecs: 60 }), NOW, "i");

  it("matches the same config, media types compared case-insensitively", () => {
    expect(matchesSpec(existing, spec({ ttlSecs: 60, contentType: "TEXT/PLAIN" }))).toBe(true);
  });

  it("differs on content type, TTL, Expires-At and closed flag", () => {
    expect(matchesSpec(existing, spec({ ttlSecs: 60, contentType: "application/json" }))).toBe(false);
    expect(matchesSpec(existing, spec({ ttlSecs: 61 }))).toBe(false);
    expect(matchesSpec(existing, spec())).toBe(false);
    expect(matchesSpec(existing, spec({ ttlSecs: 60, closed: true }))).toBe(false);
  });

  it("treats a missing content type as octet-stream, except for forks, which inherit", () => {
    expect(matchesSpec(newLifecycle(spec({ contentType: null }), NOW, "i"), spec({ contentType: "application/octet-stream" }))).toBe(true);
    const fork = { source: "s", seqNum: null, within: 0 };
    const forked = newLifecycle(spec({ contentType: null, fork }), NOW, "i", { contentType: "application/json", ttlSecs: 5, expiresAt: null },
      { ...fork, resolvedSeqNum: 3 });
    expect(forked.contentType).toBe("application/json");
    expect(forked.ttlSecs).toBe(5);
    expect(matchesSpec(forked, spec({ contentType: null, fork }))).toBe(true);
    expect(matchesSpec(forked, spec({ contentType: null, fork: { ...fork, seqNum: 3 } }))).toBe(true);
    expect(matchesSpec(forked, spec({ contentType: null, fork: { ...fork, seqNum: 2 } }))).toBe(false);
    expect(matchesSpec(forked, spec({ contentType: null, fork: { ...fork, within: 1 } }))).toBe(false);
    expect(matchesSpec(forked, spec({ contentType: "application/json" }))).toBe(false);
  });
});

describe("expiry (PROTOCOL.md §5.1)", () => {
  it("slides a TTL (plus the grace for the answer's way back) from the last access, capped by an absolute expiry", () => {
    const lifecycle = { ...newLifecycle(spec({ ttlSecs: 2 }), NOW, "i"), lastAccessMs: NOW + 1000 };
    expect(expiresAtMs(lifecycle)).toBe(NOW + 3000 + TTL_GRACE_MS);
    expect(isExpired(lifecycle, NOW + 2999 + TTL_GRACE_MS)).toBe(false);
    expect(isExpired(lifecycle, NOW + 3000 + TTL_GRACE_MS)).toBe(true);
    const capped = { ...lifecycle, expiresAt: { ms: NOW + 1500, text: "t" } };
    expect(expiresAtMs(capped)).toBe(NOW + 1500);
    expect(expiresAtMs(defaultLifecycle(NOW))).toBeNull();
  });
});

describe("renderDsError: statuses and the headers clients act on", () => {
  it("answers a closed stream with 409, Stream-Closed and the final offset", () => {
    expect(renderDsError({ code: "stream_closed", tail: { seqNum: 3, timestamp: 0 } })).toMatchObject({
      status: 409, headers: { "Stream-Closed": "true", "Stream-Next-Offset": "0000000000000003_0000000000000000" },
    });
  });

  it("fences producers with 403 and the epoch, and reports gaps with expected and received seqs", () => {
    expect(renderDsError({ code: "producer_epoch_stale", currentEpoch: 4 })).toMatchObject({ status: 403, headers: { "Producer-Epoch": "4" } });
    expect(renderDsError({ code: "producer_seq_gap", expectedSeq: 2, receivedSeq: 5 })).toMatchObject({
      status: 409, headers: { "Producer-Expected-Seq": "2", "Producer-Received-Seq": "5" },
    });
  });

  it("maps soft delete to 410 and its name or source to 409, bodies too large to 413", () => {
    expect(renderDsError({ code: "stream_gone", message: "m" }).status).toBe(410);
    expect(renderDsError({ code: "stream_deletion_pending", message: "m" }).status).toBe(409);
    expect(renderDsError({ code: "too_large", message: "m" }).status).toBe(413);
    expect(renderDsError({ code: "invalid", message: "m" }).status).toBe(400);
    expect(renderDsError({ code: "unwritten", tail: { seqNum: 0, timestamp: 0 } }).status).toBe(400);
  });
});

describe("planAppends: appends larger than one batch", () => {
  const records = (n: number, size = 1) => Array.from({ length: n }, () => ({ headers: [], body: new Uint8Array(size) }));

  it("splits at 1000 records and continues the seq nums", () => {
    const planned = unwrap(planAppends(EMPTY_STREAM_STATE, records(2500), SYSTEM_STREAM_DEFAULTS, NOW));
    expect(planned.map((batch) => batch.records.length)).toEqual([1000, 1000, 500]);
    expect(planned[2]!.records[0]!.seqNum).toBe(2000);
    expect(planned[2]!.state.tail.seqNum).toBe(2500);
  });

  it("splits at 1 MiB metered and refuses a record that alone exceeds it", () => {
    expect(unwrap(planAppends(EMPTY_STREAM_STATE, records(3, 600_000), SYSTEM_STREAM_DEFAULTS, NOW)).length).toBe(3);
    expect(unwrapErr(planAppends(EMPTY_STREAM_STATE, records(1, 1024 * 1024), SYSTEM_STREAM_DEFAULTS, NOW)).code).toBe("too_large");
    expect(unwrap(planAppends(EMPTY_STREAM_STATE, [], SYSTEM_STREAM_DEFAULTS, NOW))).toEqual([]);
  });
});

describe("renderS2Error: Durable Streams state seen through S2", () => {
  it("refuses S2 appends to a closed stream with 409 stream_closed, and maps the rest onto S2's codes", () => {
    expect(renderS2Error({ code: "stream_closed", tail: { seqNum: 3, timestamp: 0 } })).toEqual({
      status: 409, body: '{"code":"stream_closed","message":"stream is closed"}',
    });
    expect(JSON.parse(renderS2Error({ code: "stream_gone", message: "m" }).body).code).toBe("stream_deletion_pending");
    expect(renderS2Error({ code: "too_large", message: "m" }).status).toBe(422);
  });
});
