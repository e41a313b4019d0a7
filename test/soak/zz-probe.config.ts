import { defineConfig } from "vitest/config";
export default defineConfig({ test: { root: "/work/main", environment: "node", include: ["test/soak/zz-probe.test.ts"], testTimeout: 0 } });
