import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// Issue 12: without a TTY the first start was 20 silent seconds, and the demo
// printed API keys but no console logins and no integration key. Now, off a
// TTY, seeding prints a plain line every 10%, and the demo prints a login and
// password per role (two distinct reviewers) and an integration key.

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "clearsplit-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("clearsplit demo off a TTY", () => {
  it("prints progress lines, console logins per role and the integration key", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CLEARSPLIT_DATA_DIR: dir };
    delete env.DATABASE_URL; // its own embedded database, whichever backend the suite runs on
    const { stdout, stderr } = await exec(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "demo", "--orders", "5"],
      { env },
    );
    const progress = stderr.split("\n").filter((line) => line.startsWith("seeding demo marketplace: "));
    expect(progress[0]).toMatch(/^seeding demo marketplace: \d+% \(\d+\/\d+ steps, [\d.]+ s\)$/);
    expect(progress.at(-1)).toMatch(/: 100% /);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(11);
    expect(stdout).toMatch(/^ {2}integration {4}\s+cs_live_\S+$/m);
    const logins = [...stdout.matchAll(/^ {2}(\w+)\s+(?:\S+\s+)?(\S+@\S+)\s+(\S+)$/gm)];
    const roles = new Set(logins.map((match) => match[1]));
    for (const role of ["platform_admin", "finance", "reviewer", "auditor", "merchant", "supplier", "party"])
      expect(roles, role).toContain(role);
    const reviewers = logins.filter((match) => match[1] === "reviewer").map((match) => match[2]);
    expect(new Set(reviewers).size).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
