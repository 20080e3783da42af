import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

// PGlite is one process's database: a second process that opens the same
// directory writes behind the owner's back, and its writes are lost or seen
// by nobody (issue 12). So whoever opens an embedded data directory first
// holds a lock file in it, with its pid and, for a server, its URL; every
// other opener refuses, naming both. A lock whose process is gone (a crash,
// a kill -9) is stale and is taken over.

export const lock_file_name = "clearsplit.lock";
const lock_attempts_max = 3;

export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** The owner's HTTP address once it listens; null for a CLI command or a server still starting. */
  readonly url: string | null;
  readonly since: string;
}

/** Thrown when another live process owns the data directory; the CLI exits 2 with its message. */
export class DataDirLockedError extends Error {
  readonly owner: LockOwner;
  readonly data_dir: string;
  constructor(data_dir: string, owner: LockOwner) {
    const who = owner.url
      ? `clearsplit serve (pid ${owner.pid}, ${owner.url})`
      : `another clearsplit process (pid ${owner.pid})`;
    super(
      `the embedded database ${data_dir} is in use by ${who}. PGlite allows one process at a time, ` +
        `so nothing was written. ${owner.url ? `Use the API at ${owner.url} instead (with CLEARSPLIT_KEY set to an admin API key, the keys and users commands go through it), or stop` : "Stop"} ` +
        `pid ${owner.pid} first, or set DATABASE_URL to use PostgreSQL, which allows many processes.`,
    );
    this.name = "DataDirLockedError";
    this.owner = owner;
    this.data_dir = data_dir;
  }
}

export interface DataDirLock {
  readonly data_dir: string;
  /** Records the server's URL in the lock, so other commands can name it. */
  announce(url: string): void;
  release(): void;
}

const held = new Map<string, DataDirLock>();

/** Takes the directory's lock, or throws DataDirLockedError naming its live owner. */
export function lockDataDir(data_dir: string): DataDirLock {
  const path = join(data_dir, lock_file_name);
  mkdirSync(data_dir, { recursive: true });
  for (let attempt = 0; attempt < lock_attempts_max; attempt += 1) {
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      url: null,
      since: new Date().toISOString(),
    };
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${JSON.stringify(owner)}\n`);
      closeSync(fd);
      return remember(data_dir, path, owner);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const current = readOwner(path);
    if (current !== null && isAlive(current)) throw new DataDirLockedError(data_dir, current);
    // Stale (its process is gone) or unreadable (a writer died mid-write): take it over.
    rmSync(path, { force: true });
  }
  throw new Error(`could not take the lock ${path} after ${lock_attempts_max} attempts`);
}

/** The live owner of a data directory, or null when none holds it. */
export function dataDirOwner(data_dir: string): LockOwner | null {
  const owner = readOwner(join(data_dir, lock_file_name));
  return owner !== null && isAlive(owner) ? owner : null;
}

function remember(data_dir: string, path: string, owner: LockOwner): DataDirLock {
  let current = owner;
  const lock: DataDirLock = {
    data_dir,
    announce(url) {
      current = { ...current, url };
      writeFileSync(path, `${JSON.stringify(current)}\n`);
    },
    release() {
      if (held.get(path) !== lock) return;
      held.delete(path);
      // Only our own lock is removed: a takeover after we were presumed dead must survive.
      if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
    },
  };
  held.set(path, lock);
  return lock;
}

function readOwner(path: string): LockOwner | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid !== "number" || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return null;
    return {
      pid: parsed.pid,
      hostname: typeof parsed.hostname === "string" ? parsed.hostname : "",
      url: typeof parsed.url === "string" ? parsed.url : null,
      since: typeof parsed.since === "string" ? parsed.since : "",
    };
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  // A lock written on another host (a shared volume) cannot be probed: treat it as live.
  if (owner.hostname !== "" && owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// A process that exits without closing its database still frees the directory.
process.once("exit", () => {
  for (const lock of [...held.values()]) lock.release();
});

/** Records a server's URL in the lock this process holds on the directory (no-op if it holds none). */
export function announceDataDirUrl(data_dir: string, url: string): void {
  held.get(join(data_dir, lock_file_name))?.announce(url);
}
