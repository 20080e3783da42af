import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../testing/db.ts";
import { expectLedgerInvariants } from "../testing/invariants.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import type { ServiceContext } from "./context.ts";
import { bookOrders } from "./orders/book.ts";
import { completeOrder } from "./orders/order-lifecycle.ts";
import { startScheduler } from "./scheduler.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("scheduler", () => {
  it("releases when the window ends, after a restart, and exactly once with two schedulers running", async () => {
    const clock = testClock("2026-11-25T12:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant, 3_600_000);
    const bodies = Array.from({ length: 30 }, (_, i) => ({ ...order_json, id: `SCHED-${i}` }));
    expect((await bookOrders(ctx, tenant, bodies)).every((r) => r.status === "created")).toBe(true);
    for (const body of bodies) await completeOrder(ctx, tenant, body.id);

    // A scheduler that stops before the window ends keeps nothing: a new one picks up the work.
    const first = startScheduler(ctx, { interval_ms: 60_000 });
    await first.tick();
    await first.stop();
    const released = () =>
      db.query<{ n: bigint }>(
        "SELECT count(*)::int8 AS n FROM orders WHERE tenant_id = $1 AND released_at IS NOT NULL",
        [tenant],
      );
    expect((await released())[0]!.n).toBe(0n);

    clock.advance(3_600_000);
    const a = startScheduler(ctx, { interval_ms: 60_000 });
    const b = startScheduler(ctx, { interval_ms: 60_000 });
    await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    await Promise.all([a.stop(), b.stop()]);
    expect((await released())[0]!.n).toBe(30n);
    const [releases] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM journal_transactions WHERE tenant_id = $1 AND kind = 'release'",
      [tenant],
    );
    expect(releases!.n).toBe(30n);
    await expectLedgerInvariants(db, tenant);
  });
});
