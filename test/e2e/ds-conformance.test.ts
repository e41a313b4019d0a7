// The upstream Durable Streams conformance suite (@durable-streams/server-conformance-tests, pinned) against
// the e2e server. The package's CLI runs no tests when installed from npm, so its exported suite is
// registered here, in this vitest (package.json `overrides` pins the suite's vitest to ours; under another
// vitest major its tests would register nowhere).
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { inject } from "vitest";
import { TEST_ROOT_TOKEN } from "../support/auth";
import { E2E_DS_LONG_POLL_TIMEOUT_MS } from "../support/local-server";

const baseUrl = inject("baseUrl");

// The suite calls the global fetch without credentials, and every route but /health needs a token here:
// requests to the server under test carry the root token (the protocol itself defines no authentication).
const unauthenticatedFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  if (!url.startsWith(baseUrl)) return unauthenticatedFetch(input, init);
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TEST_ROOT_TOKEN}`);
  return unauthenticatedFetch(input, { ...init, headers });
};

runConformanceTests({ baseUrl, longPollTimeoutMs: E2E_DS_LONG_POLL_TIMEOUT_MS, subscriptions: true });
