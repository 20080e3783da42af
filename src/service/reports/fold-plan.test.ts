import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fold_round_sql } from "../../store/account-daily-sql.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { planNodes, planOf } from "../../testing/plans.ts";

// Proves a fold round reads only its own leaves' rows: per leaf one probe of
// the journal transaction, the order and the postings by primary key, whatever
// the statistics say (decision 13). Written as plain joins, the same statement
// was planned with scans of all the tenant's journal transactions and postings
// once the tables were analysed, a cost per round that grows with the books
// (decisions §40). The tenant is given 3,000 transactions, postings, orders and
// leaves first, so that a scan costs what it would.

describe("the report fold's plan", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it("probes journal_transactions, orders and postings by primary key, never scans the tenant's", async () => {
    const tenant = await newTestTenant({ db, now: () => new Date() }, "fold-plan");
    await db.query(
      `WITH t AS (SELECT i, gen_random_uuid() AS id FROM generate_series(1, 3000) AS i),
       journal AS (
         INSERT INTO journal_transactions (tenant_id, id, kind, idempotency_key, content_hash, effective_at,
                                           recorded_at, order_id)
         SELECT $1, t.id, 'split', 'fold-plan-' || t.i, '', now(), now(), 'FP-' || t.i FROM t),
       orders_in AS (
         INSERT INTO orders (tenant_id, id, merchant_id, currency, paid_minor, paid_at, facts, facts_sha256,
                             policy_hash, transaction_id, created_at, split_pieces)
         SELECT $1, 'FP-' || t.i, 'm-1', 'CNY', 100, now(), '{}', '', '', t.id, now(),
                '{"m-1": {"split:sales": "100"}}' FROM t),
       leaves AS (
         INSERT INTO log_leaves (tenant_id, leaf_index, record_id) SELECT $1, t.i - 1, t.id FROM t),
       -- Folded already, in the same transaction: a fold of every tenant behind (other test files share
       -- the database) never takes these leaves, whose records exist only for the planner.
       folded AS (
         INSERT INTO report_fold_cursors (tenant_id, leaf_index, updated_at) VALUES ($1, 2999, now()))
       INSERT INTO postings (tenant_id, transaction_id, seq, account_id, amount_minor, currency, effective_at)
       SELECT $1, t.id, s.seq, gen_random_uuid(), CASE WHEN s.seq = 0 THEN -100 ELSE 50 END, 'CNY', now()
         FROM t, generate_series(0, 2) AS s(seq)`,
      [tenant],
    );
    // With statistics the join shape was the one that scanned (without, it happened to probe).
    await db.query("ANALYZE journal_transactions, orders, postings, log_leaves, accounts");
    const [row] = await db.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${fold_round_sql}`, [
      tenant,
      500,
      null,
      false,
      "{}",
      new Date(),
    ]);
    const nodes = planNodes(planOf(row?.["QUERY PLAN"]));
    for (const table of ["journal_transactions", "orders", "postings"]) {
      const on_table = nodes.filter((node) => node["Relation Name"] === table);
      expect(on_table.length, table).toBeGreaterThanOrEqual(1);
      for (const scan of on_table) {
        // A probe is an index scan of the primary key, or (on a database whose statistics other
        // tenants fill, as the shared test database's) the same key's bitmap scan of one key's rows.
        const index =
          scan["Node Type"] === "Bitmap Heap Scan"
            ? scan.Plans?.find((child) => child["Node Type"] === "Bitmap Index Scan")
            : scan;
        expect(scan["Node Type"], table).toMatch(/^(Index (Only )?Scan|Bitmap Heap Scan)$/);
        expect(index?.["Index Name"], table).toBe(`${table}_pkey`);
        // Conditioned on the leaf's own key, not on the tenant alone.
        expect(index?.["Index Cond"], table).toMatch(/\b(id|transaction_id) = /);
      }
    }
  });
});
