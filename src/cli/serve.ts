import { parseArgs } from "node:util";
import { buildApp } from "../http/app.ts";
import { type ServiceContext, systemClock } from "../service/context.ts";
import { demo_tenant_id } from "../service/demo/seed.ts";
import { ensureLogKeys, LogKeyStore, logKeyOptionsFromEnv } from "../service/tlog/index.ts";
import { announceDataDirUrl } from "../store/data-dir-lock.ts";
import { selectAutovacuumEnabled } from "../store/maintenance-sql.ts";
import { embeddedDataDir, openDatabase } from "../store/open.ts";
import { type BackgroundRoles, startBackgroundRoles } from "./background-roles.ts";
import { console_dir, ensureConsoleBuilt } from "./console-build.ts";
import {
  demoSeeded,
  describeCredentials,
  describeLogins,
  ensureDemoLogins,
  seedWithProgress,
  storedCredentials,
} from "./demo-setup.ts";
import { applyHeapGrowth } from "./heap-growth.ts";
import { api_connections_min, roles_thread_connections, startRolesThread } from "./roles-thread.ts";
import {
  announceListening,
  db_connections_per_process_max,
  db_connections_total_default,
  isWorker,
  poolPerWorker,
  runPrimary,
  serve_workers_max,
  worker_pool_env,
} from "./serve-cluster.ts";

/**
 * Said once at start on a server that will not vacuum on its own. Every completion, refund and
 * release rewrites its order row; with nothing removing the dead versions, a simulated run's
 * server CPU per operation went from 4.4 to 10.8 ms in 15,000 operations (docs/reliability.md).
 */
export const autovacuum_off_warning =
  "autovacuum is off on this PostgreSQL (autovacuum or track_counts): dead row versions and " +
  "stale statistics will pile up and every operation will cost more as the books grow; turn it " +
  'on, or run VACUUM (ANALYZE) on a schedule (docs/operations.md, "Vacuum")';

export const demo_orders_default = 3_000;

export const usage = `usage: clearsplit serve [--demo] [--port P] [--host H] [--workers N]

Migrates the database, starts the API, the web console, the log sequencer, the
scheduler and the notification dispatcher in one process.
  --demo       seed the demo marketplace on first start and print its logins and keys
  --port P     where to listen (default PORT or 3000; 0 picks a free port)
  --host H     the address to bind (default HOST or 127.0.0.1)
  --workers N  run N server processes sharing the port (default 1; PostgreSQL only).
               Each has its own pool of CLEARSPLIT_DB_CONNECTIONS / N connections
               (total default ${db_connections_total_default}, at most ${db_connections_per_process_max} each); background work is
               led per tenant by one process at a time (docs/scale.md)
The database is PostgreSQL when DATABASE_URL is set, else embedded PGlite in
CLEARSPLIT_DATA_DIR (default ./.clearsplit), which one process owns at a time.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      demo: { type: "boolean", default: false },
      port: { type: "string" },
      host: { type: "string" },
      workers: { type: "string", default: "1" },
    },
  });
  const heap = applyHeapGrowth(process.env.CLEARSPLIT_HEAP_GROWING_PERCENT);
  if (typeof heap === "string") {
    process.stderr.write(`clearsplit serve: ${heap}\n`);
    return 2;
  }
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  const host = values.host ?? process.env.HOST ?? "127.0.0.1";
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `clearsplit serve: PORT must be 0-65535, got ${JSON.stringify(values.port ?? process.env.PORT)}\n`,
    );
    return 2;
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > serve_workers_max) {
    process.stderr.write(
      `clearsplit serve: --workers must be 1-${serve_workers_max}, got ${JSON.stringify(values.workers)}\n`,
    );
    return 2;
  }
  const on_postgres = (process.env.DATABASE_URL ?? "") !== "";
  if (workers > 1 && !on_postgres) {
    process.stderr.write(
      "clearsplit serve: --workers needs PostgreSQL (DATABASE_URL): the embedded PGlite database " +
        "belongs to one process, so it serves with one worker only\n",
    );
    return 2;
  }
  const worker = isWorker();
  const pool = on_postgres ? poolPerWorker(workers) : db_connections_per_process_max;
  if (typeof pool === "string") {
    process.stderr.write(`clearsplit serve: ${pool}\n`);
    return 2;
  }
  const process_pool = worker ? Number(process.env[worker_pool_env] ?? pool) : pool;
  // CLEARSPLIT_ROLES_THREAD=on: on PostgreSQL the background loops get a thread and a few of the
  // process's connections (roles-thread.ts). Off by default: measured, it bought no throughput and
  // cost about 130 MB of resident memory (decision §31).
  const roles_thread =
    on_postgres &&
    process.env.CLEARSPLIT_ROLES_THREAD === "on" &&
    process_pool - roles_thread_connections >= api_connections_min;
  const open_options = {
    connections_max: roles_thread ? process_pool - roles_thread_connections : process_pool,
    application_name: `clearsplit serve ${process.pid}`,
  };
  // The primary of --workers N prepares once (migrations, demo data, console
  // build, log keys), then forks the workers that serve.
  const prepare = !worker;
  const db = await openDatabase(open_options);
  const ctx: ServiceContext = { db, now: systemClock };
  if (on_postgres && prepare && !(await selectAutovacuumEnabled(db)))
    process.stderr.write(`clearsplit serve: warning: ${autovacuum_off_warning}\n`);
  let credentials = values.demo && prepare ? storedCredentials() : [];
  if (values.demo && prepare && !(await demoSeeded(ctx)))
    credentials = await seedWithProgress(ctx, demo_orders_default);
  const logins = values.demo && prepare ? await ensureDemoLogins(ctx) : [];
  // The web console is built here when web/dist is missing or older than its sources.
  const serve_console = process.env.CLEARSPLIT_CONSOLE !== "off";
  if (serve_console && prepare)
    await ensureConsoleBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
  // One key store for both: it caches the unsealed signers (scrypt is slow on purpose).
  const keys = new LogKeyStore(logKeyOptionsFromEnv());
  ctx.log_keys = keys;
  const log_lines = await ensureLogKeys(db, keys);
  // The demo's webhooks may point at a receiver on this machine (docs/notifications.md).
  if (values.demo && process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE === undefined)
    process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
  const printBanner = (address: string) =>
    process.stdout.write(
      banner({ address, backend: db.backend, serve_console, log_lines, logins, credentials, workers }),
    );
  if (workers > 1 && !worker) {
    await db.close();
    return runPrimary({
      workers,
      pool_per_worker: pool,
      on_listening: printBanner,
      shutdown_ms: shutdown_ms_max,
    });
  }

  let fatal: ((reason: string) => void) | null = null;
  let fatal_reason: string | null = null;
  const roles: BackgroundRoles = roles_thread
    ? startRolesThread({
        connections_max: roles_thread_connections,
        log: (line) => process.stderr.write(`${line}\n`),
        on_fatal: (reason) => {
          fatal_reason = reason;
          fatal?.(reason);
        },
      })
    : startBackgroundRoles(ctx, keys);
  // JSON logs by default (CLEARSPLIT_LOG=0 turns them off, CLEARSPLIT_LOG_LEVEL tunes them).
  const app = await buildApp({
    ctx,
    logger: process.env.CLEARSPLIT_LOG !== "0",
    ...(serve_console ? { console_dir } : {}),
  });
  // Registered before listening: a worker told to stop while it starts still drains.
  const signal = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
    // A roles thread that keeps dying stops the server, so its supervisor sees the failure.
    fatal = (reason) => resolve(`fatal: ${reason}`);
    if (fatal_reason !== null) fatal(fatal_reason);
  });
  const address = await app.listen({ port, host });
  if (db.backend === "pglite") announceDataDirUrl(embeddedDataDir(), address);
  // A worker's primary prints the banner once all its workers listen.
  if (worker) announceListening(address);
  else printBanner(address);
  const code = await shutdown(await signal, [
    // Stop accepting; requests in flight finish (a queued group commit
    // included, since its requests await it); new ones get 503 meanwhile.
    ["http", () => app.close()],
    // Each loop finishes the round it is in, then stops (on its thread, when it has one).
    ["background roles", () => roles.stop()],
    ["database", () => db.close()],
  ]);
  // A worker's channel to its primary would keep it alive.
  if (worker) process.disconnect?.();
  return fatal_reason === null ? code : 1;
}

function banner(parts: {
  address: string;
  backend: string;
  serve_console: boolean;
  log_lines: string[];
  logins: Awaited<ReturnType<typeof ensureDemoLogins>>;
  credentials: ReturnType<typeof storedCredentials>;
  workers: number;
}): string {
  const { address, serve_console, log_lines, logins, credentials } = parts;
  return [
    `ClearSplit is listening on ${address}`,
    ...(serve_console ? [`  web console:   ${address}/`] : []),
    `  API docs:      ${address}/docs`,
    `  OpenAPI:       ${address}/openapi.json`,
    `  database:      ${parts.backend === "pglite" ? `embedded PGlite (${embeddedDataDir()})` : "PostgreSQL"}`,
    ...(parts.workers > 1 ? [`  workers:       ${parts.workers} processes share the port`] : []),
    ...log_lines.map((line) => `  ${line}`),
    ...(logins.length > 0
      ? [`  demo console logins (tenant ${demo_tenant_id}; sign in at ${address}/):`, describeLogins(logins)]
      : []),
    ...(credentials.length > 0
      ? [
          "  demo API keys (send as `Authorization: Bearer <key>`; the integration key is the mall's, docs/integration.md):",
          describeCredentials(credentials),
          `  try: curl -H "Authorization: Bearer ${credentials[0]!.key}" ${address}/v1/orders?limit=3`,
        ]
      : []),
    "",
  ].join("\n");
}

/** How long a graceful shutdown may take before the process exits anyway. */
export const shutdown_ms_max = Number(process.env.CLEARSPLIT_SHUTDOWN_MS ?? 20_000);

async function shutdown(signal: string, steps: [string, () => Promise<void>][]): Promise<number> {
  const started = Date.now();
  process.stderr.write(`clearsplit serve: ${signal}: shutting down (at most ${shutdown_ms_max} ms)\n`);
  const timer = setTimeout(() => {
    process.stderr.write(`clearsplit serve: shutdown took over ${shutdown_ms_max} ms; exiting now\n`);
    process.exit(1);
  }, shutdown_ms_max);
  timer.unref();
  let code = 0;
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      code = 1;
      process.stderr.write(`clearsplit serve: stopping ${name} failed: ${String(error)}\n`);
    }
  }
  clearTimeout(timer);
  process.stderr.write(`clearsplit serve: stopped cleanly in ${Date.now() - started} ms\n`);
  return code;
}
