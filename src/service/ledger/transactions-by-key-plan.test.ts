import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { selectTransactionsByKey } from "../../store/ledger-sql.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { explainCall, planNodes } from "../../testing/plans.ts";
import { analyseTenantColumn, colocatedTenant, fillerRows } from "../../testing/statistics.ts";

// Proves a ledger write's replay check (the transactions of a batch's
// idempotency keys) probes the (tenant_id, idempotency_key) index once per key
// when the statistics were gathered before the tenant had rows, as on a
// shard of many tenants on Citus (decisions §13, §42). Written as
// `idempotency_key = ANY($2)` it was a scan of the tenant's transactions
// through the primary key, each row tested against the whole array.

async function insertTransactions(db: Database, tenant: string, count: number): Promise<void> {
  await db.query(
    `INSERT INTO journal_transactions (tenant_id, id, kind, idempotency_key, content_hash, effective_at, recorded_at)
     SELECT $1, gen_random_uuid(), 'adjustment', 'KEY-' || i, '', now(), now() FROM generate_series(1, $2::int4) AS i`,
    [tenant, count],
  );
}

describe("the transactions-by-key lookup", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it("probes the idempotency key index per key when the table was analysed without the tenant", async () => {
    const ctx = { db, now: () => new Date() };
    const tenant = await newTestTenant(ctx, "plan");
    const filler = await colocatedTenant(ctx, tenant);
    await insertTransactions(db, filler, await fillerRows(db, "journal_transactions"));
    await analyseTenantColumn(db, "journal_transactions");
    await insertTransactions(db, tenant, 3000);
    const keys = Array.from({ length: 256 }, (_, i) => `KEY-${i * 7}`);
    const plan = await explainCall(db, (tx) => selectTransactionsByKey(tx, tenant, keys));
    const scans = planNodes(plan).filter((node) => node["Relation Name"] === "journal_transactions");
    expect(scans).toHaveLength(1);
    expect(scans[0]!["Node Type"]).toBe("Index Scan");
    expect(scans[0]!["Index Name"]).toBe("journal_transactions_tenant_id_idempotency_key_key");
    expect(scans[0]!["Index Cond"]).toMatch(/idempotency_key = k\.key/);
  });
});
