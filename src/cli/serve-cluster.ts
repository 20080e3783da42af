import cluster, { type Worker } from "node:cluster";

// `clearsplit serve --workers N` (issue 20, docs/scale.md): the primary forks
// N copies of `serve` that share the listening port through node:cluster. Each
// worker is a whole server with its own pool, group committer and background
// loops; the loops elect one leader per tenant per round through PostgreSQL
// advisory locks, as separate hosts do. The primary serves nothing itself: it
// forks, restarts a worker that dies (with backoff, up to a limit), forwards
// SIGTERM/SIGINT so every worker drains, and exits non-zero when workers
// cannot start or keep dying.

/** Most workers one `serve` forks. */
export const serve_workers_max = 64;
/** Database connections all the workers of one `serve` may hold together, unless CLEARSPLIT_DB_CONNECTIONS says. */
export const db_connections_total_default = 20;
/** One process's pool, as a single `serve` has always had; workers get less when the total is shared. */
export const db_connections_per_process_max = 10;
/** A worker's pool below this could starve its own background loops: refuse to start instead. */
export const db_connections_per_process_min = 4;
/** First delay before a dead worker is forked again; it doubles with each recent restart. */
export const worker_restart_backoff_ms_min = 250;
export const worker_restart_backoff_ms_max = 10_000;
/** More restarts than this within worker_restart_window_ms: the primary gives up and exits 1. */
export const worker_restarts_max = 5;
export const worker_restart_window_ms = 60_000;
/** Extra time the primary grants its workers' own shutdown (CLEARSPLIT_SHUTDOWN_MS) before it kills them. */
export const worker_shutdown_grace_ms = 5_000;

/** The worker's pool size, handed to each worker through its environment. */
export const worker_pool_env = "CLEARSPLIT_WORKER_DB_CONNECTIONS";

/** A worker tells the primary where it listens. */
export interface ListeningMessage {
  type: "clearsplit:listening";
  address: string;
}

/** Each worker's pool, so that N pools together stay within the total; an error text when they cannot. */
export function poolPerWorker(
  workers: number,
  total = Number(process.env.CLEARSPLIT_DB_CONNECTIONS ?? db_connections_total_default),
): number | string {
  if (!Number.isInteger(total) || total < 1)
    return `CLEARSPLIT_DB_CONNECTIONS must be a positive integer, got ${JSON.stringify(process.env.CLEARSPLIT_DB_CONNECTIONS)}`;
  const per = Math.min(db_connections_per_process_max, Math.floor(total / workers));
  if (per < db_connections_per_process_min)
    return (
      `${workers} workers sharing ${total} database connections get ${per} each, ` +
      `fewer than the ${db_connections_per_process_min} a worker needs; ` +
      `raise CLEARSPLIT_DB_CONNECTIONS (and PostgreSQL's max_connections) or use fewer workers`
    );
  return per;
}

export interface ClusterOptions {
  workers: number;
  pool_per_worker: number;
  /** Called once, when every worker first listens; prints the banner. */
  on_listening: (address: string) => void;
  log?: (line: string) => void;
  shutdown_ms: number;
}

/** Runs the primary until a signal drains the workers, or until they cannot start or keep dying; resolves with the exit code. */
export function runPrimary(options: ClusterOptions): Promise<number> {
  const log = options.log ?? ((line: string) => process.stderr.write(`clearsplit serve: ${line}\n`));
  const env = { [worker_pool_env]: String(options.pool_per_worker) };
  const live = new Set<Worker>();
  const listened = new Set<number>();
  const restart_times: number[] = [];
  const restart_timers = new Set<NodeJS.Timeout>();
  let started = false;
  let stopping = false;
  let code = 0;

  return new Promise<number>((resolve) => {
    function fork(): void {
      const worker = cluster.fork(env);
      live.add(worker);
      worker.on("message", (message: ListeningMessage) => {
        if (message?.type !== "clearsplit:listening") return;
        listened.add(worker.id);
        if (!started && listened.size === options.workers) {
          started = true;
          options.on_listening(message.address);
        }
      });
      worker.once("exit", (exit_code, signal) => onExit(worker, exit_code, signal));
    }

    function onExit(worker: Worker, exit_code: number | null, signal: string | null): void {
      live.delete(worker);
      const how = signal === null ? `exit code ${exit_code}` : `signal ${signal}`;
      if (stopping) {
        // A worker still starting has no handler yet: SIGTERM ends it with nothing to drain.
        if (exit_code !== 0 && signal !== "SIGTERM") code = 1;
        if (live.size === 0) finish();
        return;
      }
      if (!started) {
        // A worker that could not start (port taken, database unreachable) will not start on a retry either.
        log(`worker ${worker.process.pid} failed to start (${how}); stopping`);
        code = 1;
        stop();
        return;
      }
      const now = Date.now();
      while (restart_times.length > 0 && restart_times[0]! <= now - worker_restart_window_ms)
        restart_times.shift();
      if (restart_times.length >= worker_restarts_max) {
        log(
          `worker ${worker.process.pid} died (${how}); ${restart_times.length} restarts within ` +
            `${worker_restart_window_ms} ms already, giving up`,
        );
        code = 1;
        stop();
        return;
      }
      const delay_ms = Math.min(
        worker_restart_backoff_ms_max,
        worker_restart_backoff_ms_min * 2 ** restart_times.length,
      );
      restart_times.push(now);
      log(`worker ${worker.process.pid} died (${how}); forking another in ${delay_ms} ms`);
      const timer = setTimeout(() => {
        restart_timers.delete(timer);
        if (!stopping) fork();
      }, delay_ms);
      restart_timers.add(timer);
    }

    let kill_timer: NodeJS.Timeout | undefined;
    function stop(signal?: string): void {
      if (stopping) return;
      stopping = true;
      if (signal !== undefined) log(`${signal}: draining ${live.size} workers`);
      for (const timer of restart_timers) clearTimeout(timer);
      restart_timers.clear();
      if (live.size === 0) {
        finish();
        return;
      }
      for (const worker of live) worker.process.kill("SIGTERM");
      kill_timer = setTimeout(() => {
        log(`workers still running after ${options.shutdown_ms + worker_shutdown_grace_ms} ms; killing them`);
        code = 1;
        for (const worker of live) worker.process.kill("SIGKILL");
      }, options.shutdown_ms + worker_shutdown_grace_ms);
    }

    function finish(): void {
      clearTimeout(kill_timer);
      process.off("SIGTERM", on_term);
      process.off("SIGINT", on_int);
      resolve(code);
    }

    const on_term = () => stop("SIGTERM");
    const on_int = () => stop("SIGINT");
    process.on("SIGTERM", on_term);
    process.on("SIGINT", on_int);
    for (let i = 0; i < options.workers; i++) fork();
  });
}

/** In a worker: tells the primary this worker listens at `address`. */
export function announceListening(address: string): void {
  if (cluster.isWorker && process.send !== undefined) {
    const message: ListeningMessage = { type: "clearsplit:listening", address };
    process.send(message);
  }
}

export const isWorker = (): boolean => cluster.isWorker;
