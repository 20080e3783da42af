import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { select_orders_sql, selectOrdersWithReturnWindowForUpdate } from "../../store/orders-sql.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { explainCall, type PlanNode, planNodes, planOf } from "../../testing/plans.ts";
import { analyseTenantColumn, colocatedTenant, fillerRows } from "../../testing/statistics.ts";

// Proves the booking's order lookup is one primary-key probe per id whatever
// the statistics say (decisions §13, §42). Two states of the table: never
// analysed (as on PGlite, which has no autovacuum, or with autovacuum off),
// and analysed while holding other tenants but not this one (a new tenant
// growing faster than autoanalyze; on Citus, a shard of many tenants). In the
// second the planner used to estimate the tenant at one row, and then a scan
// of all its orders through orders_paid_at, filtered by id, cost the same as
// the probe and won (seen on a Citus worker, 7 Dec). Written as `id = ANY($2)`
// the lookup fails the first state too. On Citus the plan read is the
// worker's, under the coordinator's custom scan.

async function insertOrders(db: Database, tenant: string, prefix: string, count: number): Promise<void> {
  await db.query(
    `INSERT INTO orders (tenant_id, id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256,
                         policy_hash, transaction_id, created_at)
     SELECT $1, $2 || i, 'm-1', 'CNY', 100, now(), '{}', '', '', gen_random_uuid(), now()
       FROM generate_series(1, $3::int4) AS i`,
    [tenant, prefix, count],
  );
}

const ids = Array.from({ length: 500 }, (_, i) => `PLAN-${i * 7}`);

function expectPrimaryKeyProbe(plan: PlanNode): void {
  const on_orders = planNodes(plan).filter((node) => node["Relation Name"] === "orders");
  expect(on_orders).toHaveLength(1);
  const [scan] = on_orders;
  expect(scan!["Node Type"]).toBe("Index Scan");
  expect(scan!["Index Name"]).toBe("orders_pkey");
  // The probe's id is the unnested key's (named k or u as the planner likes).
  expect(scan!["Index Cond"]).toMatch(/tenant_id = .*\(id = [ku]\.id\)|\(id = [ku]\.id\).*tenant_id = /);
}

async function bookingLookupPlan(db: Database, tenant: string): Promise<PlanNode> {
  const [row] = await db.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${select_orders_sql}`, [
    tenant,
    ids,
  ]);
  return planOf(row?.["QUERY PLAN"]);
}

describe("the order existence lookup", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it("probes orders_pkey by tenant and id on a table without statistics of the tenant", async () => {
    const tenant = await newTestTenant({ db, now: () => new Date() }, "plan");
    await insertOrders(db, tenant, "PLAN-", 3000);
    expectPrimaryKeyProbe(await bookingLookupPlan(db, tenant));
  });

  it("probes orders_pkey when the table was analysed with other tenants and not this one", async () => {
    const ctx = { db, now: () => new Date() };
    const tenant = await newTestTenant(ctx, "plan");
    const filler = await colocatedTenant(ctx, tenant);
    await insertOrders(db, filler, "FILL-", await fillerRows(db, "orders"));
    await analyseTenantColumn(db, "orders");
    await insertOrders(db, tenant, "PLAN-", 3000);
    expectPrimaryKeyProbe(await bookingLookupPlan(db, tenant));
    // The completion's lookup of the orders it locks, in the same state.
    expectPrimaryKeyProbe(
      await explainCall(db, (tx) => selectOrdersWithReturnWindowForUpdate(tx, tenant, ids)),
    );
  });
});
