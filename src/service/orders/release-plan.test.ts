import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { release_due_sql } from "../../store/orders-sql.ts";
import { newTestTenant, openOwnTestDatabase } from "../../testing/db.ts";
import { type PlanNode, planNodes, planOf } from "../../testing/plans.ts";

// The release scan reads only due orders nobody holds, in its own partial index, and asks about
// each one's cases with index probes (docs/decisions.md §45). On a tenant with thousands of parked
// orders and open cases (a review queue behind), the older plans walked every parked order
// (orders_releasable, filtering `NOT release_parked`) and hashed every open case of the tenant
// (an EXISTS planned as one scan of audit_cases), each round. Plans are read with the
// statistics autovacuum would leave, in the generic plan and a custom one.

const parked_orders = 3_000;
const free_orders = 3_000;

describe("the release scan's plan", () => {
  let db: Database;
  let tenant: string;
  const now = new Date("2026-11-20T12:00:00Z");
  let close: () => Promise<void>;
  beforeAll(async () => {
    // A database of its own: these orders have no journal, and a release round of another file
    // sharing the suite's database would fail on them.
    ({ db, close } = await openOwnTestDatabase("release_plan"));
    tenant = await newTestTenant({ db, now: () => now }, "release-plan");
    await db.query(
      `INSERT INTO orders (tenant_id, id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256,
                           policy_hash, transaction_id, created_at, completed_at, releasable_at, release_parked)
       SELECT $1, 'R-' || i, 'm-' || (i % 7), 'CNY', 100 + i, $2::timestamptz - interval '30 days',
              '{}', '', '', gen_random_uuid(), $2::timestamptz, $2::timestamptz - interval '9 days',
              $2::timestamptz - (i || ' minutes')::interval, i > $4::int
         FROM generate_series(1, $3::int + $4::int) AS i`,
      [tenant, now, parked_orders, free_orders],
    );
    await db.query(
      `INSERT INTO audit_cases (tenant_id, id, kind, state, order_id, rule_ids, amount_minor, currency,
                                opened_at, opened_by, updated_at)
       SELECT $1, gen_random_uuid(), 'rule', 'open', 'R-' || i, ARRAY['split_cap_exceeded'], 1, 'CNY', $2, 'system:audit', $2
         FROM generate_series($3::int + 1, $3::int + $4::int) AS i`,
      [tenant, now, free_orders, parked_orders],
    );
    // With statistics, as the server's autovacuum leaves them: the state the hashed plan came from.
    await db.query("ANALYZE orders");
    await db.query("ANALYZE audit_cases");
  }, 120_000);
  afterAll(async () => close());

  for (const mode of ["generic", "custom"] as const) {
    it(`reads orders_release_due and probes the cases per order (${mode} plan)`, async () => {
      const root = await db.transaction(async (tx) => {
        await tx.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
        await tx.query("PREPARE release_probe (text, timestamptz, int) AS " + release_due_sql);
        try {
          const [row] = await tx.query<{ "QUERY PLAN": unknown }>(
            `EXPLAIN (FORMAT JSON) EXECUTE release_probe ('${tenant}', '${now.toISOString()}', 500)`,
          );
          return planOf(row?.["QUERY PLAN"]);
        } finally {
          await tx.query("DEALLOCATE release_probe");
        }
      });
      const nodes = planNodes(root);
      const on = (relation: string) => nodes.filter((node: PlanNode) => node["Relation Name"] === relation);
      // Read in the scan's own index (an index scan, or a bitmap of it), never walked whole.
      expect(on("orders").filter((node) => node["Node Type"] === "Seq Scan")).toEqual([]);
      const order_indexes = nodes
        .map((node) => node["Index Name"])
        .filter((name) => name?.startsWith("orders"));
      expect(new Set(order_indexes)).toEqual(new Set(["orders_release_due"]));
      for (const node of on("audit_cases")) {
        expect(node["Node Type"]).not.toBe("Seq Scan");
        expect(node["Index Cond"] ?? "").toMatch(/order_id|party_id/);
      }
      expect(on("audit_cases").length).toBeGreaterThan(0);
    });
  }

  it("returns the free orders first in releasable order, each with whether a case holds it", async () => {
    const rows = await db.transaction((tx) =>
      tx.query<{ id: string; held: boolean }>(release_due_sql, [tenant, now, 5]),
    );
    // The parked ones, held by their cases, are the oldest (R-3001 … R-6000): the scan reads past
    // them to the oldest free one, R-3000.
    expect(rows.map((row) => [row.id, row.held])).toEqual([
      ["R-3000", false],
      ["R-2999", false],
      ["R-2998", false],
      ["R-2997", false],
      ["R-2996", false],
    ]);
  });
});
