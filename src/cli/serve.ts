import { parseArgs } from "node:util";
import { buildApp } from "../http/app.ts";
import { systemClock } from "../service/context.ts";
import { openDatabase } from "../store/open.ts";

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
  const ctx = { db, now: systemClock };
  const app = await buildApp({ ctx, logger: process.env.CLEARSPLIT_LOG === "1" });
  const address = await app.listen({ port, host });
  process.stdout.write(
    `ClearSplit is listening on ${address}\n  API docs: ${address}/docs\n  database: ${db.backend}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await app.close();
  await db.close();
  return 0;
}
