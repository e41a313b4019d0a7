import { describe, expect, it } from "vitest";
import { invalid, streamError, type MessageErrorCode } from "../../src/domain/errors";
import { renderS2Error, S2_STATUS } from "../../src/protocol/s2/errors";

// S2-API §2.2: the status of every error code is fixed.
const SPEC_STATUS: Record<string, number> = {
  access_token_not_found: 404,
  authn: 401,
  bad_frame: 400,
  bad_header: 400,
  bad_json: 400,
  bad_path: 400,
  bad_proto: 400,
  bad_query: 400,
  basin_deletion_pending: 409,
  basin_not_found: 404,
  client_hangup: 499,
  decryption_failed: 400,
  hot_server: 502,
  invalid: 422,
  not_implemented: 501,
  other: 500,
  permission_denied: 403,
  quota_exhausted: 403,
  rate_limited: 429,
  request_timeout: 408,
  resource_already_exists: 409,
  server_draining: 503,
  storage: 500,
  stream_deletion_pending: 409,
  stream_not_found: 404,
  transaction_conflict: 409,
  unavailable: 503,
  upstream_timeout: 504,
};

describe("S2_STATUS", () => {
  it("only uses codes from the spec, each with the spec's status", () => {
    for (const [code, status] of Object.entries(S2_STATUS)) {
      expect(SPEC_STATUS[code], `${code} is not an S2 code`).toBeDefined();
      expect(status, code).toBe(SPEC_STATUS[code]);
    }
  });

  it("covers the codes the engine produces", () => {
    expect(Object.keys(S2_STATUS).sort()).toEqual([
      "access_token_not_found", "authn", "bad_frame", "bad_header", "bad_json", "bad_path", "bad_proto", "bad_query", "basin_deletion_pending", "basin_not_found", "invalid",
      "not_implemented", "other", "permission_denied", "resource_already_exists", "storage", "stream_deletion_pending", "stream_not_found",
      "transaction_conflict", "unavailable",
    ]);
  });
});

describe("renderS2Error", () => {
  it("renders message errors as {code, message} with the code's status", () => {
    for (const code of Object.keys(S2_STATUS) as MessageErrorCode[]) {
      const rendered = renderS2Error(streamError(code, `msg ${code}`));
      expect(rendered.status, code).toBe(SPEC_STATUS[code]);
      expect(JSON.parse(rendered.body)).toEqual({ code, message: `msg ${code}` });
    }
    expect(renderS2Error(invalid("record batch must not be empty"))).toEqual({
      status: 422,
      body: '{"code":"invalid","message":"record batch must not be empty"}',
    });
  });

  it("renders a seq_num mismatch as 412 with the next seq num and no code", () => {
    const rendered = renderS2Error({ code: "seq_num_mismatch", expectedSeqNum: 0 });
    expect(rendered.status).toBe(412);
    expect(JSON.parse(rendered.body)).toStrictEqual({ seq_num_mismatch: 0 });
  });

  it("renders a fencing token mismatch as 412 with the current token and no code", () => {
    const rendered = renderS2Error({ code: "fencing_token_mismatch", expectedToken: "" });
    expect(rendered.status).toBe(412);
    expect(JSON.parse(rendered.body)).toStrictEqual({ fencing_token_mismatch: "" });
    expect(JSON.parse(renderS2Error({ code: "fencing_token_mismatch", expectedToken: "tök\"en" }).body)).toStrictEqual({
      fencing_token_mismatch: "tök\"en",
    });
  });

  it("renders an unwritten start as 416 with the tail and no code", () => {
    const rendered = renderS2Error({ code: "unwritten", tail: { seqNum: 12, timestamp: 1700000000000 } });
    expect(rendered.status).toBe(416);
    expect(JSON.parse(rendered.body)).toStrictEqual({ tail: { seq_num: 12, timestamp: 1700000000000 } });
  });
});
