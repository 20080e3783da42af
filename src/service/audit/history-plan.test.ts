import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  merchant_orders_in_window_sql,
  merchant_recent_paid_sql,
  merchant_refund_window_sql,
} from "../../store/audit-runner-sql.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { type PlanNode, planNodes, planOf } from "../../testing/plans.ts";

// Proves the audit runner's merchant history reads are ranges of the merchant's
// own index on tables the planner has no statistics for (autovacuum off, PGlite,
// a new tenant), in the generic plan a prepared statement settles on after five
// runs as well as in a custom one (docs/decisions.md §41). Written as
// `(paid_at, id) < (…)`, the 50-before read was planned generically as a scan of
// orders_paid_at over every merchant's earlier orders, then a sort; the refund
// count read every refund of the tenant. Each table gets several merchants'
// thousands of rows first, so the wrong plan would have rows to walk.

// On Citus the coordinator keeps no generic plan of a statement it can route
// only once its parameters are known: it prices that plan out, so every
// execution is planned with its values, and the worker plans a statement with
// constants, as in the custom plan tested here (citus
// src/backend/distributed/planner/distributed_planner.c). Forcing the generic
// plan there fails with "could not create distributed plan".
const generic_single_node =
  "a generic plan is single-node: on Citus every execution of these reads is planned with its parameters";

const merchants = 4;
const orders_per_merchant = 3_000;

/** A SQL literal of a value, for EXECUTE's arguments (which take no parameters). */
function literal(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Array.isArray(value))
    return `'{${value.map((item) => `"${String(item instanceof Date ? item.toISOString() : item)}"`).join(",")}}'`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** The plan of `sql` for `params`: generic (as a prepared statement's after five runs) or custom. */
async function plan(
  db: Database,
  sql: string,
  types: readonly string[],
  params: readonly unknown[],
  mode: "generic" | "custom",
): Promise<PlanNode> {
  return db.transaction((tx) => planIn(tx, sql, types, params, mode));
}

async function planIn(
  tx: Queryable,
  sql: string,
  types: readonly string[],
  params: readonly unknown[],
  mode: "generic" | "custom",
): Promise<PlanNode> {
  await tx.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
  await tx.query(`PREPARE history_probe (${types.join(", ")}) AS ${sql}`);
  try {
    const [row] = await tx.query<{ "QUERY PLAN": unknown }>(
      `EXPLAIN (FORMAT JSON) EXECUTE history_probe (${params.map(literal).join(", ")})`,
    );
    return planOf(row?.["QUERY PLAN"]);
  } finally {
    await tx.query("DEALLOCATE history_probe");
  }
}

/** The nodes that read an index whose name starts with `prefix`: index scans and bitmap index scans alike. */
function indexUses(root: PlanNode, prefix: string): PlanNode[] {
  return planNodes(root).filter((node) => node["Index Name"]?.startsWith(prefix) === true);
}

/** Whether any node reads the relation some other way than through an index (a sequential scan). */
function seqScans(root: PlanNode, relation: string): PlanNode[] {
  return planNodes(root).filter(
    (node) => node["Relation Name"] === relation && node["Node Type"] === "Seq Scan",
  );
}

describe("the audit runner's merchant history reads", () => {
  let db: Database;
  let tenant: string;
  const at = new Date("2026-11-20T12:00:00Z");
  beforeAll(async () => {
    db = await openTestDatabase();
    tenant = await newTestTenant({ db, now: () => new Date() }, "history-plan");
    await db.query(
      `INSERT INTO orders (tenant_id, id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256,
                           policy_hash, transaction_id, created_at)
       SELECT $1, 'H-' || i, 'm-' || (i % $2::int), 'CNY', 100 + i, $4::timestamptz - (i || ' minutes')::interval,
              '{}', '', '', gen_random_uuid(), now()
         FROM generate_series(1, $2::int * $3::int) AS i`,
      [tenant, merchants, orders_per_merchant, at],
    );
    await db.query(
      `INSERT INTO order_refunds (tenant_id, order_id, refund_id, kind, amount_minor, request, request_sha256,
                                  reversal, transaction_id, before_release, created_at, merchant_id)
       SELECT tenant_id, id, 'r-1', 'refund', 1, '{}', '', '{}', gen_random_uuid(), false, paid_at, merchant_id
         FROM orders WHERE tenant_id = $1`,
      [tenant],
    );
  });
  afterAll(async () => {
    await db.close();
  });

  const probe = () => ({
    merchants: ["m-1", "m-2", "m-3"],
    paid_at: [at, at, at],
    order_ids: ["H-1", "H-2", "H-3"],
    since: [
      new Date(at.getTime() - 86_400_000),
      new Date(at.getTime() - 86_400_000),
      new Date(at.getTime() - 86_400_000),
    ],
  });

  for (const mode of ["generic", "custom"] as const) {
    it(`reads the 50 orders before each probe from orders_merchant_paid (${mode} plan)`, async ({ skip }) => {
      skip(mode === "generic" && db.sharded === true, generic_single_node);
      const p = probe();
      const root = await plan(
        db,
        merchant_recent_paid_sql,
        ["text", "text[]", "timestamptz[]", "text[]", "int"],
        [tenant, p.merchants, p.paid_at, p.order_ids, 50],
        mode,
      );
      const uses = indexUses(root, "orders_");
      expect(uses.map((use) => use["Index Name"])).toEqual(["orders_merchant_paid"]);
      expect(uses[0]!["Index Cond"]).toMatch(/merchant_id/);
      expect(seqScans(root, "orders")).toEqual([]);
    });

    it(`counts the merchant's orders in the velocity window from orders_merchant_paid (${mode} plan)`, async ({
      skip,
    }) => {
      skip(mode === "generic" && db.sharded === true, generic_single_node);
      const p = probe();
      const root = await plan(
        db,
        merchant_orders_in_window_sql,
        ["text", "text[]", "timestamptz[]", "text[]", "timestamptz[]", "int"],
        [tenant, p.merchants, p.paid_at, p.order_ids, p.since, 1000],
        mode,
      );
      const uses = indexUses(root, "orders_");
      expect(uses.length).toBeGreaterThan(0);
      for (const use of uses) expect(use["Index Name"]).toBe("orders_merchant_paid");
      expect(seqScans(root, "orders")).toEqual([]);
    });

    it(`counts the merchant's orders and refunds in the refund-rate window from their merchant indexes (${mode} plan)`, async ({
      skip,
    }) => {
      skip(mode === "generic" && db.sharded === true, generic_single_node);
      const p = probe();
      const root = await plan(
        db,
        merchant_refund_window_sql,
        ["text", "text[]", "timestamptz[]", "timestamptz[]"],
        [tenant, p.merchants, p.since, p.paid_at],
        mode,
      );
      for (const use of indexUses(root, "orders_")) expect(use["Index Name"]).toBe("orders_merchant_paid");
      const refunds = indexUses(root, "order_refunds_");
      expect(refunds.length).toBeGreaterThan(0);
      for (const use of refunds) expect(use["Index Name"]).toBe("order_refunds_merchant_created");
      expect([...seqScans(root, "orders"), ...seqScans(root, "order_refunds")]).toEqual([]);
    });
  }

  // Why the comparison leads with merchant_id: with the merchant's index out of
  // the way (dropped in a transaction that is rolled back), orders_paid_at can
  // take nothing but the tenant from these reads, so no plan, whatever the
  // statistics, can find it cheaper than the merchant's own range. Written on
  // (paid_at, id), orders_paid_at took `paid_at <= p.paid_at` and the planner
  // with no statistics costed the two alike.
  it("leaves orders_paid_at nothing to range over but the tenant", async () => {
    const p = probe();
    const reads: [string, string[], unknown[]][] = [
      [
        merchant_recent_paid_sql,
        ["text", "text[]", "timestamptz[]", "text[]", "int"],
        [tenant, p.merchants, p.paid_at, p.order_ids, 50],
      ],
      [
        merchant_orders_in_window_sql,
        ["text", "text[]", "timestamptz[]", "text[]", "timestamptz[]", "int"],
        [tenant, p.merchants, p.paid_at, p.order_ids, p.since, 1000],
      ],
      [
        merchant_refund_window_sql,
        ["text", "text[]", "timestamptz[]", "timestamptz[]"],
        [tenant, p.merchants, p.since, p.paid_at],
      ],
    ];
    for (const [sql, types, params] of reads) {
      const rolled_back = new Error("rolled back");
      let root: PlanNode | undefined;
      await db
        .transaction(async (tx) => {
          await tx.query("DROP INDEX orders_merchant_paid");
          // The plan each execution gets: generic on one node, custom on Citus (above).
          root = await planIn(tx, sql, types, params, db.sharded === true ? "custom" : "generic");
          throw rolled_back;
        })
        .catch((error: unknown) => {
          if (error !== rolled_back) throw error;
        });
      const paid_at_uses = indexUses(root!, "orders_");
      for (const use of paid_at_uses)
        expect(use["Index Cond"] ?? "", use["Index Name"]).not.toMatch(/paid_at/);
    }
  });

  it("answers the same counts as a plain reading of the rows", async () => {
    const p = probe();
    const [counted] = await db.query<{ orders: bigint; refunds: bigint }>(merchant_refund_window_sql, [
      tenant,
      ["m-1"],
      [p.since[0]],
      [at],
    ]);
    const [expected] = await db.query<{ orders: bigint; refunds: bigint }>(
      `SELECT (SELECT count(*) FROM orders WHERE tenant_id = $1 AND merchant_id = 'm-1'
                 AND paid_at > $2 AND paid_at <= $3)::int8 AS orders,
              (SELECT count(*) FROM order_refunds r JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
                WHERE r.tenant_id = $1 AND o.merchant_id = 'm-1' AND r.created_at > $2 AND r.created_at <= $3)::int8 AS refunds`,
      [tenant, p.since[0], at],
    );
    expect(Number(counted!.orders)).toBeGreaterThan(0);
    expect(Number(counted!.refunds)).toBe(Number(counted!.orders));
    expect({ orders: Number(counted!.orders), refunds: Number(counted!.refunds) }).toEqual({
      orders: Number(expected!.orders),
      refunds: Number(expected!.refunds),
    });
  });
});
