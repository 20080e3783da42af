import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { select_orders_sql } from "../../store/orders-sql.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { planNodes, planOf } from "../../testing/plans.ts";

// Proves the booking's order lookup is one primary-key probe per id on a
// table the planner has no statistics for (as on a server with autovacuum
// off, on PGlite, which has no autovacuum, or a table growing faster than
// autoanalyze): the shape of decision 13. Written as `id = ANY($2)`, the same
// lookup was planned as a scan of all the tenant's orders through
// orders_paid_at, filtered against the whole array. (On an empty table the
// two indexes cost the same and either may be chosen, at no cost: the test
// gives the table the tenant's few thousand orders first.) On Citus the plan
// read is the worker's, under the coordinator's custom scan.

describe("the order existence lookup", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it("probes orders_pkey by tenant and id, never scans the tenant's orders", async () => {
    const tenant = await newTestTenant({ db, now: () => new Date() }, "plan");
    await db.query(
      `INSERT INTO orders (tenant_id, id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256,
                           policy_hash, transaction_id, created_at)
       SELECT $1, 'PLAN-' || i, 'm-1', 'CNY', 100, now(), '{}', '', '', gen_random_uuid(), now()
         FROM generate_series(1, 3000) AS i`,
      [tenant],
    );
    const ids = Array.from({ length: 500 }, (_, i) => `PLAN-${i * 7}`);
    const [row] = await db.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${select_orders_sql}`, [
      tenant,
      ids,
    ]);
    const on_orders = planNodes(planOf(row?.["QUERY PLAN"])).filter(
      (node) => node["Relation Name"] === "orders",
    );
    expect(on_orders).toHaveLength(1);
    const [scan] = on_orders;
    expect(scan!["Node Type"]).toBe("Index Scan");
    expect(scan!["Index Name"]).toBe("orders_pkey");
    expect(scan!["Index Cond"]).toMatch(/tenant_id = .*id = k\.id|id = k\.id.*tenant_id = /);
  });
});
