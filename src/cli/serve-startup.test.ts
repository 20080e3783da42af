import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// A serve that fails after its background loops and pool started (here: its
// port is taken) used to print the error and then run for ever, so a
// supervisor never saw it fail. It must exit non-zero.

const dir = mkdtempSync(join(tmpdir(), "clearsplit-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}

describe("clearsplit serve at startup", () => {
  it("exits non-zero, naming the cause, when its port is taken", async () => {
    const { server, port } = await occupyPort();
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "src/cli/main.ts", "serve", "--port", String(port), "--host", "127.0.0.1"],
          {
            // Its own embedded database in `dir`, never the suite's DATABASE_URL: serve opens every
            // tenant's log key at start, and in a shared test database the tenants other tests sealed
            // under their own secrets stop it ("log key of tenant …") before it reaches the port.
            env: {
              ...process.env,
              DATABASE_URL: "",
              CLEARSPLIT_DATA_DIR: dir,
              CLEARSPLIT_CONSOLE: "off",
              CLEARSPLIT_LOG: "0",
            },
            stdio: ["ignore", "ignore", "pipe"],
          },
        );
        let stderr = "";
        child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
        // Without the fix the process never ends: the test's own timeout is the failure.
        child.once("exit", (code) => resolve({ code, stderr }));
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("EADDRINUSE");
    } finally {
      server.close();
    }
  }, 120_000);
});
