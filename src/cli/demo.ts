import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { systemClock } from "../service/context.ts";
import { demo_tenant_id } from "../service/demo/seed.ts";
import { DataDirLockedError, dataDirOwner } from "../store/data-dir-lock.ts";
import { embeddedDataDir, openDatabase } from "../store/open.ts";
import {
  demoSeeded,
  describeCredentials,
  describeLogins,
  seedWithProgress,
  storedLogins,
} from "./demo-setup.ts";

export const demo_orders_max = 1_000_000;

export const usage = `usage: clearsplit demo [--orders N] [--tenant T] [--reset]

Seeds a demo marketplace: parties, a published policy, N orders over 60 days
(completions, refunds, chargebacks, releases), API keys and console logins.
  --orders N   how many orders (default 3000, at most ${demo_orders_max})
  --tenant T   the tenant to seed (default the demo tenant); it must have no orders yet
  --reset      wipe the embedded database (CLEARSPLIT_DATA_DIR) first; refused while a server owns it
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      orders: { type: "string", default: "3000" },
      tenant: { type: "string", default: demo_tenant_id },
      reset: { type: "boolean", default: false },
    },
  });
  const orders = Number(values.orders);
  if (!Number.isInteger(orders) || orders < 1 || orders > demo_orders_max) {
    process.stderr.write(`clearsplit demo: --orders must be a whole number from 1 to ${demo_orders_max}\n`);
    return 2;
  }
  if (values.reset) {
    if (process.env.DATABASE_URL) {
      process.stderr.write(
        "clearsplit demo: --reset only wipes the embedded database; with DATABASE_URL, seed another --tenant\n",
      );
      return 2;
    }
    // The journal is append-only by design, so a reseed starts a fresh embedded
    // database; never under a live owner's feet (data-dir-lock.ts).
    const data_dir = embeddedDataDir();
    const owner = dataDirOwner(data_dir);
    if (owner !== null) throw new DataDirLockedError(data_dir, owner);
    rmSync(data_dir, { recursive: true, force: true });
  }
  const db = await openDatabase();
  try {
    const ctx = { db, now: systemClock };
    if (await demoSeeded(ctx, values.tenant)) {
      process.stderr.write(
        `clearsplit demo: tenant ${values.tenant} already has orders; use --reset (embedded database) or another --tenant\n`,
      );
      return 1;
    }
    const credentials = await seedWithProgress(ctx, orders, values.tenant);
    process.stdout.write(
      `seeded ${orders} orders into tenant ${values.tenant}\n` +
        "API keys (send as `Authorization: Bearer <key>`; the integration key is the mall's, docs/integration.md):\n" +
        `${describeCredentials(credentials)}\n` +
        `console logins (tenant ${values.tenant}; two reviewers decide a four-eyes case together):\n${describeLogins(storedLogins())}\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
