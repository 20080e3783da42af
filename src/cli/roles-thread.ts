import { Worker } from "node:worker_threads";
import type { BackgroundRoles } from "./background-roles.ts";

// With CLEARSPLIT_ROLES_THREAD=on, `serve` on PostgreSQL runs the background
// loops (background-roles.ts) on a worker thread of their own, with its own
// pool; the loops lead each tenant by advisory lock as they would in another
// process, so nothing else changes. Off by default: on this 2-core box it
// bought no booking throughput and cost about 130 MB of resident memory (a
// second V8 heap with its own copy of the modules); decision §31. PGlite
// always keeps them on the API's loop: its database belongs to one thread.

/** Connections of the roles thread, taken from the process's share (serve-cluster.ts). */
export const roles_thread_connections = 3;
/** Below this many connections for the API itself, the roles stay on its loop. */
export const api_connections_min = 4;
/** A thread that dies is started again after this, doubling per recent restart… */
export const roles_restart_backoff_ms_min = 250;
export const roles_restart_backoff_ms_max = 10_000;
/** …and more than this many restarts within the window stop the server (exit 1). */
export const roles_restarts_max = 5;
export const roles_restart_window_ms = 60_000;

export interface RolesThreadData {
  entry: string;
  connections_max: number;
  /** The database (default DATABASE_URL, which the thread inherits). */
  database_url: string | undefined;
}

export type RolesThreadMessage =
  | { type: "started" }
  | { type: "stop" }
  | { type: "stopped"; error: string | null };

export interface RolesThreadOptions {
  connections_max: number;
  database_url?: string;
  log: (line: string) => void;
  /** The thread kept dying: the server should stop with exit 1. */
  on_fatal: (reason: string) => void;
}

/**
 * Starts the thread without waiting for it: the API need not wait for the
 * loops (a thread boots its own copy of the modules, seconds on a busy
 * machine). A thread that cannot start, or keeps dying, calls on_fatal.
 */
export function startRolesThread(options: RolesThreadOptions): BackgroundRoles {
  let stopping = false;
  const restarts: number[] = [];
  let current: Promise<Worker | null> = Promise.resolve(null);

  const launch = () => {
    current = spawn(options).then(
      (worker) => {
        if (stopping) {
          void worker.terminate();
          return null;
        }
        worker.on("error", (error) => options.log(`roles thread: ${String(error)}`));
        worker.once("exit", (code) => {
          if (!stopping) restart(code);
        });
        return worker;
      },
      (error: unknown) => {
        if (!stopping) options.on_fatal(String(error instanceof Error ? error.message : error));
        return null;
      },
    );
  };

  const restart = (code: number) => {
    const now_ms = Date.now();
    while (restarts.length > 0 && now_ms - restarts[0]! > roles_restart_window_ms) restarts.shift();
    if (restarts.length >= roles_restarts_max) {
      options.on_fatal(
        `the roles thread exited (code ${code}) ${restarts.length + 1} times within ${roles_restart_window_ms / 1000} s`,
      );
      return;
    }
    const backoff_ms = Math.min(
      roles_restart_backoff_ms_max,
      roles_restart_backoff_ms_min * 2 ** restarts.length,
    );
    restarts.push(now_ms);
    options.log(`roles thread exited (code ${code}); starting it again in ${backoff_ms} ms`);
    current = new Promise((resolve) => setTimeout(resolve, backoff_ms).unref()).then(() => {
      if (stopping) return null;
      launch();
      return current;
    });
  };

  launch();
  return {
    async stop() {
      stopping = true;
      const worker = await current;
      if (worker === null) return;
      const reply = new Promise<string | null>((resolve) => {
        worker.on("message", (message: RolesThreadMessage) => {
          if (message.type === "stopped") resolve(message.error);
        });
        worker.once("exit", () => resolve(null));
      });
      worker.postMessage({ type: "stop" } satisfies RolesThreadMessage);
      const error = await reply;
      await worker.terminate();
      if (error !== null) throw new Error(error);
    },
  };
}

function spawn(options: RolesThreadOptions): Promise<Worker> {
  const data: RolesThreadData = {
    entry: new URL("./roles-thread-main.ts", import.meta.url).href,
    connections_max: options.connections_max,
    database_url: options.database_url,
  };
  const worker = new Worker(new URL("./thread-boot.mjs", import.meta.url), {
    workerData: data,
    name: "clearsplit roles",
  });
  return new Promise((resolve, reject) => {
    const failed = (reason: string) => {
      void worker.terminate();
      reject(new Error(reason));
    };
    worker.once("error", (error) => failed(`the roles thread failed to start: ${String(error)}`));
    worker.once("exit", (code) => failed(`the roles thread exited with code ${code} while starting`));
    worker.on("message", function started(message: RolesThreadMessage) {
      if (message.type !== "started") return;
      worker.off("message", started);
      worker.removeAllListeners("error");
      worker.removeAllListeners("exit");
      resolve(worker);
    });
  });
}
