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

export interface ServerProcess {
  base_url: string;
  /** Peak resident set of the server process so far, in MB. */
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
  /** Kills the server without warning (SIGKILL), as a crash would; resolves once it is gone. */
  kill(): Promise<void>;
}

export async function startServerProcess(
  database_url: string,
  options: { cpu_profile_dir?: string | undefined; env?: Record<string, string> | undefined } = {},
): Promise<ServerProcess> {
  const node_flags =
    options.cpu_profile_dir === undefined
      ? []
      : ["--cpu-prof", `--cpu-prof-dir=${options.cpu_profile_dir}`, `--cpu-prof-name=${server_profile_name}`];
  const child = spawn(process.execPath, [...node_flags, cli_path, "serve", "--port", "0"], {
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
  });
  const base_url = await listeningAddress(child);
  const pid = child.pid;
  assert(pid !== undefined, "the server process has a pid");
  return {
    base_url,
    async peakRssMb() {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const peak_kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
      assert(peak_kb !== undefined, "the server's /proc status has VmHWM");
      return Number(peak_kb) / 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        // SIGTERM lets serve close and, under --cpu-prof, write its profile.
        child.kill("SIGTERM");
      }),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => fail(`did not listen within ${server_start_ms_max} ms`),
      server_start_ms_max,
    );
    function fail(why: string): void {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`clearsplit serve ${why}\n${stderr.slice(-2_000)}`));
    }
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
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
