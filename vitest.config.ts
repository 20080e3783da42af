import { defineConfig } from "vitest/config";

// Tests sit beside the code they test. Database-backed suites open their own
// tenant, so files can run in parallel against one PostgreSQL database.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "web/src/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Servers the tests spawn serve the API alone: the console has its own
    // browser suite (npm run test:console), which builds it once.
    env: { CLEARSPLIT_CONSOLE: "off" },
  },
});
