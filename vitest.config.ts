import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_ROOT_TOKEN } from "./test/support/auth.ts";

// Inside workerd every stream seals after a handful of appends, so every integration test also reads
// across R2 segments and the tail, with seals landing while it runs. The tail bound (appends refused while
// sealing cannot keep up) is 4 MiB instead of 256 MiB, so tiered-faults.test.ts reaches it with R2 down;
// ordinary tests, whose tails are sealed as they go, stay far below it.
const SMALL_SEALS = { SEAL_TAIL_ROWS: "4", SEAL_TAIL_BYTES: "4096", SEGMENT_BYTES_TARGET: "2048", TAIL_BYTES_MAX: String(4 * 1024 * 1024) };

// One config, three projects: `npx vitest run --project <name>` picks one.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["test/unit/**/*.test.ts", "test/history/**/*.test.ts"],
        },
      },
      {
        plugins: [cloudflareTest({
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: { bindings: { ROOT_TOKEN: TEST_ROOT_TOKEN, DS_SUBSCRIPTIONS: "on", DS_LONG_POLL_TIMEOUT_MS: "500", ...SMALL_SEALS } },
        })],
        test: {
          name: "workers",
          include: ["test/integration/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          // A cold `wrangler dev` and first Durable Object start can take seconds on a busy machine.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
