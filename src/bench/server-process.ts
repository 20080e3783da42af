import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { assert } from "../core/assert.ts";
import { server_profile_name } from "./cpu-profile.ts";

// On PostgreSQL the HTTP scenarios drive `clearsplit serve` in its own
// process, as production runs it, so that the server's memory can be read
// apart from the bench's clients and generator: its peak resident set
// (VmHWM) is the scenario's max_rss_mb. PGlite is one process's database, so
// there the server stays in the bench process.

const cli_path = fileURLToPath(new URL("../../bin/clearsplit.mjs", import.meta.url));
export const server_start_ms_max = 60_000;
const stderr_tail_max = 4_000;

export interface ServerProcess {
  base_url: string;
  /** The serving processes: the server itself, or with --workers N > 1 its N workers. */
  pids(): Promise<number[]>;
  /** Peak resident set of the server so far, in MB: with workers, the sum of each process's peak. */
  peakRssMb(): Promise<number>;
  /** SIGTERM, a graceful drain; resolves with the exit code (null when a signal ended it). */
  stop(): Promise<number | null>;
  /** Kills the server, its workers too, without warning (SIGKILL), as a crashed host would; resolves once it is gone. */
  kill(): Promise<void>;
  /** The last few KB the server wrote to stderr (its warnings). */
  stderrTail(): string;
}

export async function startServerProcess(
  database_url: string,
  options: {
    cpu_profile_dir?: string | undefined;
    env?: Record<string, string> | undefined;
    /** `serve --workers N`: N processes share the port (default 1, the server alone). */
    workers?: number | undefined;
  } = {},
): Promise<ServerProcess> {
  const workers = options.workers ?? 1;
  const node_flags =
    options.cpu_profile_dir === undefined
      ? []
      : ["--cpu-prof", `--cpu-prof-dir=${options.cpu_profile_dir}`, `--cpu-prof-name=${server_profile_name}`];
  const child = spawn(
    process.execPath,
    [...node_flags, cli_path, "serve", "--port", "0", "--workers", String(workers)],
    {
      // Request logs would cost the measured server CPU; warnings still show.
      env: {
        CLEARSPLIT_LOG_LEVEL: "warn",
        // The bench measures the API; the server neither builds nor serves the console.
        CLEARSPLIT_CONSOLE: "off",
        ...process.env,
        ...options.env,
        DATABASE_URL: database_url,
        PORT: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const stderr = { tail: "" };
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr.tail = (stderr.tail + chunk.toString()).slice(-stderr_tail_max);
  });
  const base_url = await listeningAddress(child, stderr);
  const pid = child.pid;
  assert(pid !== undefined, "the server process has a pid");
  const serving = async (): Promise<number[]> => (workers > 1 ? await nodeChildren(pid) : [pid]);
  return {
    base_url,
    pids: serving,
    stderrTail: () => stderr.tail,
    async peakRssMb() {
      // The primary of --workers counts too: it is small, but it is memory the server holds.
      const all = workers > 1 ? [pid, ...(await serving())] : [pid];
      let peak_kb = 0;
      for (const one of all) {
        const status = await readFile(`/proc/${one}/status`, "utf8").catch(() => "");
        const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
        assert(kb !== undefined || one !== pid, "the server's /proc status has VmHWM");
        peak_kb += Number(kb ?? 0);
      }
      return peak_kb / 1024;
    },
    stop: () =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        // SIGTERM lets serve close and, under --cpu-prof, write its profile.
        child.kill("SIGTERM");
      }),
    async kill() {
      const children = workers > 1 ? await nodeChildren(pid) : [];
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
        // The whole host goes down at once: the workers die with their primary.
        for (const worker of children) killQuietly(worker);
      });
      // A worker is not our child: wait until its /proc entry is gone.
      for (const worker of children)
        while (await readFile(`/proc/${worker}/status`, "utf8").then(isAlive, () => false))
          await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/** The node processes a primary forked (its workers), from /proc. */
async function nodeChildren(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const pids = text
    .split(" ")
    .filter((word) => word !== "")
    .map(Number);
  const found: number[] = [];
  for (const one of pids) {
    const comm = await readFile(`/proc/${one}/comm`, "utf8").catch(() => "");
    if (comm.trim() === "node") found.push(one);
  }
  return found;
}

function isAlive(status: string): boolean {
  return !/^State:\s+Z/m.test(status);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

function listeningAddress(child: ChildProcess, stderr: { tail: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(
      () => fail(`did not listen within ${server_start_ms_max} ms`),
      server_start_ms_max,
    );
    function fail(why: string): void {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`clearsplit serve ${why}\n${stderr.tail.slice(-2_000)}`));
    }
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const address = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (address !== undefined) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners("data");
        child.stdout?.resume();
        resolve(address);
      }
    });
    child.once("exit", (code) => fail(`exited with ${code}`));
  });
}
