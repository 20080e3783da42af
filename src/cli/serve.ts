import { parseArgs } from "node:util";
import { buildApp } from "../http/app.ts";
import { type ServiceContext, systemClock } from "../service/context.ts";
import { startEventSequencer } from "../service/events/event-sequencer.ts";
import { natsOptionsFromEnv, startNatsPublisher } from "../service/events/nats-publisher.ts";
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
import { demoSeeded, describeCredentials, seedWithProgress, storedCredentials } from "./demo-setup.ts";

export const demo_orders_default = 3_000;

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

  const scheduler = startScheduler(ctx, {
    on_error: (error) => process.stderr.write(`scheduler: ${String(error)}\n`),
  });
  // One key store for both: it caches the unsealed signers (scrypt is slow on purpose).
  const keys = new LogKeyStore(logKeyOptionsFromEnv());
  const log_lines = await ensureLogKeys(db, keys);
  const sequencer = startSequencer(ctx, {
    keys,
    witnesses: witnessesFromEnv(),
    on_error: (error, tenant_id) => process.stderr.write(`log sequencer (${tenant_id}): ${String(error)}\n`),
  });
  const events = startEventSequencer(ctx, {
    on_error: (error) => process.stderr.write(`event sequencer: ${String(error)}\n`),
  });
  const nats_options = natsOptionsFromEnv();
  const nats = nats_options
    ? startNatsPublisher(ctx, {
        ...nats_options,
        on_error: (error) => process.stderr.write(`NATS publisher: ${String(error)}\n`),
      })
    : null;
  const app = await buildApp({ ctx, logger: process.env.CLEARSPLIT_LOG === "1" });
  const address = await app.listen({ port, host });
  if (db.backend === "pglite") announceDataDirUrl(embeddedDataDir(), address);
  process.stdout.write(
    [
      `ClearSplit is listening on ${address}`,
      `  API docs:      ${address}/docs`,
      `  OpenAPI:       ${address}/openapi.json`,
      `  database:      ${db.backend === "pglite" ? `embedded PGlite (${embeddedDataDir()})` : "PostgreSQL"}`,
      ...log_lines.map((line) => `  ${line}`),
      ...(credentials.length > 0
        ? [
            "  demo API keys (send as `Authorization: Bearer <key>`):",
            describeCredentials(credentials),
            `  try: curl -H "Authorization: Bearer ${credentials[0]!.key}" ${address}/v1/orders?limit=3`,
          ]
        : []),
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await app.close();
  await sequencer.stop();
  await events.stop();
  await nats?.stop();
  await scheduler.stop();
  await db.close();
  return 0;
}
