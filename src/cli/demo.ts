import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "../service/context.ts";
import { demo_tenant_id } from "../service/demo/seed.ts";
import { openDatabase } from "../store/open.ts";
import {
  demoSeeded,
  describeCredentials,
  describeLogins,
  seedWithProgress,
  storedLogins,
} from "./demo-setup.ts";

export const demo_orders_max = 1_000_000;

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
    // The journal is append-only by design, so a reseed starts a fresh embedded database.
    rmSync(resolve(process.env.CLEARSPLIT_DATA_DIR ?? ".clearsplit"), { recursive: true, force: true });
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
      `seeded ${orders} orders into tenant ${values.tenant}\n${describeCredentials(credentials)}\n` +
        `  console logins of two reviewers (decide a four-eyes case with both):\n${describeLogins(storedLogins(), values.tenant)}\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
