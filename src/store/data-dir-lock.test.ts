import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirLockedError, dataDirOwner, lock_file_name, lockDataDir } from "./data-dir-lock.ts";

// The lock file that gives an embedded data directory one owner: held, named,
// released, and taken over when its owner died without releasing it.

const root = mkdtempSync(join(tmpdir(), "clearsplit-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pid that certainly names no live process: a child that has exited. */
function deadPid(): number {
  return Number(
    execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).toString(),
  );
}

describe("data directory lock", () => {
  it("holds the directory with pid and URL, refuses a second taker, and frees it on release", () => {
    const dir = join(root, "a");
    const lock = lockDataDir(dir);
    lock.announce("http://127.0.0.1:1234");
    const owner = JSON.parse(readFileSync(join(dir, lock_file_name), "utf8"));
    expect(owner).toMatchObject({ pid: process.pid, url: "http://127.0.0.1:1234" });
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(/pid \d+, http:\/\/127\.0\.0\.1:1234/);
    expect(dataDirOwner(dir)?.pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, lock_file_name))).toBe(false);
    expect(dataDirOwner(dir)).toBeNull();
    lockDataDir(dir).release();
  });

  it("takes over a stale lock whose process is gone, and an unreadable one", () => {
    const dir = join(root, "b");
    lockDataDir(dir).release();
    const pid = deadPid();
    writeFileSync(
      join(dir, lock_file_name),
      JSON.stringify({ pid, hostname: hostname(), url: "http://x", since: "" }),
    );
    expect(dataDirOwner(dir)).toBeNull();
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(join(dir, lock_file_name), "utf8")).pid).toBe(process.pid);
    lock.release();
    writeFileSync(join(dir, lock_file_name), "{not json");
    lockDataDir(dir).release();
  });
});
