import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import { bookOrders } from "../service/orders/book.ts";
import type { Database } from "../store/database.ts";
import { firstUnsequenced } from "../store/log-leaves-sql.ts";
import { latestCheckpointSize } from "../store/log-tree-sql.ts";
import { openDatabase } from "../store/open.ts";
import { createScratchDatabase, type ScratchDatabase } from "../store/scratch-database.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { startRolesThread } from "./roles-thread.ts";

// The background loops on their own thread (decision §31): booked on the
// test's connection, the order reaches a signed checkpoint through the
// thread's sequencer alone, and stopping the thread closes its connections.
// A database of its own: the thread's scheduler and sequencers lead every
// tenant they find.

const database_url = process.env.DATABASE_URL;
const sequenced_deadline_ms = 60_000;
const tenant = "roles-thread";

describe.skipIf(!database_url)("the roles thread (PostgreSQL only)", () => {
  let scratch: ScratchDatabase;
  let url: string;
  let db: Database;

  beforeAll(async () => {
    scratch = await createScratchDatabase(database_url!, "clearsplit_roles");
    url = scratch.url;
    db = await openDatabase({ database_url: url, connections_max: 2 });
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it("sequences a booked order into a checkpoint from its own thread, and closes its pool on stop", async () => {
    const ctx: ServiceContext = { db, now: () => new Date() };
    await ensureTenant(ctx, { id: tenant, name: "roles thread" });
    await seedExampleMarketplace(ctx, tenant);
    const [booked] = await bookOrders(ctx, tenant, [
      { ...issue_order, id: "rt-1", paid_at: new Date().toISOString() },
    ]);
    expect(booked?.status).toBe("created");
    expect(await firstUnsequenced(db, tenant), "nothing sequenced before the thread runs").toBeDefined();

    const fatal: string[] = [];
    const roles = startRolesThread({
      connections_max: 2,
      database_url: url,
      log: () => {},
      on_fatal: (reason) => fatal.push(reason),
    });
    const deadline = Date.now() + sequenced_deadline_ms;
    while (Date.now() < deadline && (await firstUnsequenced(db, tenant)) !== undefined)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await firstUnsequenced(db, tenant), "every record sequenced by the thread").toBeUndefined();
    while (Date.now() < deadline && (await latestCheckpointSize(db, tenant)) === 0n)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await latestCheckpointSize(db, tenant)).toBeGreaterThan(0n);
    const [thread] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [`clearsplit roles ${process.pid}`],
    );
    expect(thread?.n, "the thread holds connections of its own").toBeGreaterThan(0);

    await roles.stop();
    const [after] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [`clearsplit roles ${process.pid}`],
    );
    expect(after?.n, "its connections closed with it").toBe(0);
    expect(fatal).toEqual([]);
  }, 120_000);
});
