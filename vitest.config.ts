import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_ROOT_TOKEN } from "./test/support/auth.ts";

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
          miniflare: { bindings: { ROOT_TOKEN: TEST_ROOT_TOKEN, DS_SUBSCRIPTIONS: "on" } },
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
