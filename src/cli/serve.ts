import { parseArgs } from "node:util";
import { buildApp } from "../http/app.ts";
import { startAuditRunner } from "../service/audit/runner.ts";
import { type ServiceContext, systemClock } from "../service/context.ts";
import { demo_tenant_id } from "../service/demo/seed.ts";
import { startEventSequencer } from "../service/events/event-sequencer.ts";
import { natsOptionsFromEnv, startNatsPublisher } from "../service/events/nats-publisher.ts";
import { startDispatcher } from "../service/notifications/dispatcher.ts";
import { startScheduler } from "../service/scheduler.ts";
import {
  ensureLogKeys,
  LogKeyStore,
  logKeyOptionsFromEnv,
  startSequencer,
  witnessesFromEnv,
} from "../service/tlog/index.ts";
import { announceDataDirUrl } from "../store/data-dir-lock.ts";
import { embeddedDataDir, openDatabase } from "../store/open.ts";
import { console_dir, ensureConsoleBuilt } from "./console-build.ts";
import {
  demoSeeded,
  describeCredentials,
  describeLogins,
  ensureDemoLogins,
  seedWithProgress,
  storedCredentials,
} from "./demo-setup.ts";

export const demo_orders_default = 3_000;

export const usage = `usage: clearsplit serve [--demo] [--port P] [--host H]

Migrates the database, starts the API, the web console, the log sequencer, the
scheduler and the notification dispatcher in one process.
  --demo     seed the demo marketplace on first start and print its logins and keys
  --port P   where to listen (default PORT or 3000; 0 picks a free port)
  --host H   the address to bind (default HOST or 127.0.0.1)
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
    },
  });
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  const host = values.host ?? process.env.HOST ?? "127.0.0.1";
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `clearsplit serve: PORT must be 0-65535, got ${JSON.stringify(values.port ?? process.env.PORT)}\n`,
    );
    return 2;
  }
  const db = await openDatabase();
  const ctx: ServiceContext = { db, now: systemClock };
  let credentials = values.demo ? storedCredentials() : [];
  if (values.demo && !(await demoSeeded(ctx))) credentials = await seedWithProgress(ctx, demo_orders_default);
  const logins = values.demo ? await ensureDemoLogins(ctx) : [];
  // The web console is built here when web/dist is missing or older than its sources.
  const serve_console = process.env.CLEARSPLIT_CONSOLE !== "off";
  if (serve_console) await ensureConsoleBuilt({ log: (line) => process.stderr.write(`${line}\n`) });

  const scheduler = startScheduler(ctx, {
    settle: true,
    on_error: (error) => process.stderr.write(`scheduler: ${String(error)}\n`),
  });
  // One key store for both: it caches the unsealed signers (scrypt is slow on purpose).
  const keys = new LogKeyStore(logKeyOptionsFromEnv());
  ctx.log_keys = keys;
  const log_lines = await ensureLogKeys(db, keys);
  const sequencer = startSequencer(ctx, {
    keys,
    witnesses: witnessesFromEnv(),
    on_error: (error, tenant_id) => process.stderr.write(`log sequencer (${tenant_id}): ${String(error)}\n`),
  });
  const events = startEventSequencer(ctx, {
    on_error: (error) => process.stderr.write(`event sequencer: ${String(error)}\n`),
  });
  // The demo's webhooks may point at a receiver on this machine (docs/notifications.md).
  if (values.demo && process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE === undefined)
    process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
  const dispatcher =
    process.env.CLEARSPLIT_NOTIFICATIONS === "off"
      ? null
      : startDispatcher(ctx, {
          on_error: (error, tenant_id) =>
            process.stderr.write(`dispatcher (${tenant_id}): ${String(error)}\n`),
        });
  // The history audit rules follow the sequenced event stream (docs/audit.md).
  const audit = startAuditRunner(ctx, {
    on_error: (error) => process.stderr.write(`audit runner: ${String(error)}\n`),
  });
  const nats_options = natsOptionsFromEnv();
  const nats = nats_options
    ? startNatsPublisher(ctx, {
        ...nats_options,
        on_error: (error) => process.stderr.write(`NATS publisher: ${String(error)}\n`),
      })
    : null;
  // JSON logs by default (CLEARSPLIT_LOG=0 turns them off, CLEARSPLIT_LOG_LEVEL tunes them).
  const app = await buildApp({
    ctx,
    logger: process.env.CLEARSPLIT_LOG !== "0",
    ...(serve_console ? { console_dir } : {}),
  });
  const address = await app.listen({ port, host });
  if (db.backend === "pglite") announceDataDirUrl(embeddedDataDir(), address);
  process.stdout.write(
    [
      `ClearSplit is listening on ${address}`,
      ...(serve_console ? [`  web console:   ${address}/`] : []),
      `  API docs:      ${address}/docs`,
      `  OpenAPI:       ${address}/openapi.json`,
      `  database:      ${db.backend === "pglite" ? `embedded PGlite (${embeddedDataDir()})` : "PostgreSQL"}`,
      ...log_lines.map((line) => `  ${line}`),
      ...(logins.length > 0
        ? [
            `  demo console logins (tenant ${demo_tenant_id}; sign in at ${address}/):`,
            describeLogins(logins),
          ]
        : []),
      ...(credentials.length > 0
        ? [
            "  demo API keys (send as `Authorization: Bearer <key>`; the integration key is the mall's, docs/integration.md):",
            describeCredentials(credentials),
            `  try: curl -H "Authorization: Bearer ${credentials[0]!.key}" ${address}/v1/orders?limit=3`,
          ]
        : []),
      "",
    ].join("\n"),
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  return shutdown(signal, [
    // Stop accepting; requests in flight finish (a queued group commit
    // included, since its requests await it); new ones get 503 meanwhile.
    ["http", () => app.close()],
    // Each loop finishes the round it is in, then stops.
    ["log sequencer", () => sequencer.stop()],
    ["event sequencer", () => events.stop()],
    ["notification dispatcher", async () => dispatcher?.stop()],
    ["audit runner", () => audit.stop()],
    ["NATS publisher", async () => nats?.stop()],
    ["scheduler", () => scheduler.stop()],
    ["database", () => db.close()],
  ]);
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
