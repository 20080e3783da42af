import { defineConfig } from "vitest/config";

// The web console's browser tests (`npm run test:console`, run by .ci/run after
// the suite): real Chromium against the real server and a seeded demo tenant.
export default defineConfig({
  test: {
    include: ["web/e2e/**/*.e2e.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
