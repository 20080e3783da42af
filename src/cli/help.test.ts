import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { asksForHelp, commands } from "./commands.ts";

// Issue 12: `serve --help` and `demo --help` failed with "Unknown option".
// Every command and subcommand answers --help and -h with its usage on
// stdout and exit 0, and `clearsplit --help` says in one line what each does.

const exec = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("--help", () => {
  it("every command has a one-line summary and a usage that names it", async () => {
    for (const [name, entry] of Object.entries(commands)) {
      expect(entry.summary, name).toMatch(/^[a-z].{10,79}$/);
      expect(entry.summary, name).not.toContain("\n");
      const command = await entry.load();
      expect(command.usage, name).toMatch(/^usage:/);
      expect(command.usage, name).toContain(`clearsplit ${name}`);
      expect(command.usage.endsWith("\n"), name).toBe(true);
    }
  }, 60_000);

  it("asks for help with --help or -h anywhere before --, after a subcommand too", () => {
    expect(asksForHelp(["--help"])).toBe(true);
    expect(asksForHelp(["create", "-h"])).toBe(true);
    expect(asksForHelp(["create", "--tenant", "t", "--help"])).toBe(true);
    expect(asksForHelp(["create", "--", "--help"])).toBe(false);
    expect(asksForHelp(["create", "--tenant", "t"])).toBe(false);
  });

  it("answers through the real CLI with exit 0: the list, commands and subcommands", async () => {
    const runs = await Promise.all([
      cli(["--help"]),
      cli(["serve", "--help"]),
      cli(["demo", "-h"]),
      cli(["keys", "create", "--help"]),
      cli(["verify", "db", "-h"]),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^usage:/);
    }
    const list = runs[0]!.stdout;
    for (const [name, entry] of Object.entries(commands)) {
      expect(list).toMatch(
        new RegExp(`^  ${name} +${entry.summary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"),
      );
    }
    expect(runs[1]!.stdout).toContain("clearsplit serve");
    expect(runs[2]!.stdout).toContain("clearsplit demo");
    expect(runs[3]!.stdout).toContain("clearsplit keys create");
    expect(runs[4]!.stdout).toContain("clearsplit verify db");
  }, 120_000);
});
