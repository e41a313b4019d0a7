import { defineConfig } from "vitest/config";

// The soak runs on demand only (`npm run soak`): its own config, so `npm test` never picks it up.
export default defineConfig({
  test: {
    name: "soak",
    root: new URL("../..", import.meta.url).pathname,
    environment: "node",
    include: ["test/soak/**/*.test.ts"],
    testTimeout: 0,
    hookTimeout: 120_000,
  },
});
