import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedDemo } from "./seed.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("demo marketplace", () => {
  it("replays 60 days of orders: every lifecycle state occurs and the ledger balances", async () => {
    const ctx = { db, now: () => new Date("2026-11-25T12:00:00Z") };
    const tenant_id = (await newTestTenant(ctx, "demo")).replace(/^demo-/, "d-");
    let last = 0;
    const { credentials, logins } = await seedDemo(ctx, {
      tenant_id,
      orders: 400,
      progress: (done) => (last = done),
    });
    expect(last).toBeGreaterThan(400);
    expect(credentials.map((c) => c.role)).toEqual([
      "platform_admin",
      "finance",
      "reviewer",
      "auditor",
      "merchant",
      "supplier",
      "party",
      "integration",
    ]);
    const states = await db.query<{ state: string; n: bigint }>(
      `SELECT CASE WHEN released_at IS NOT NULL THEN 'released' WHEN completed_at IS NOT NULL THEN 'completed' ELSE 'held' END AS state,
              count(*)::int8 AS n FROM orders WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1`,
      [tenant_id],
    );
    expect(states.map((s) => s.state)).toEqual(["completed", "held", "released"]);
    const [refunds] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM order_refunds WHERE tenant_id = $1",
      [tenant_id],
    );
    expect(refunds!.n).toBeGreaterThan(10n);
    const [orders] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM orders WHERE tenant_id = $1",
      [tenant_id],
    );
    expect(orders!.n).toBe(400n);
    await expectLedgerInvariants(db, tenant_id);
    // The audit demo: a configuration in force, open cases (one needing two people), a decided one, a dispute.
    // A console login per role, and at least two distinct reviewers for four eyes.
    expect(new Set(logins.map((l) => l.login)).size).toBe(logins.length);
    expect(new Set(logins.map((l) => l.role))).toEqual(
      new Set(["platform_admin", "finance", "reviewer", "auditor", "merchant", "supplier", "party"]),
    );
    expect(logins.filter((l) => l.role === "reviewer").length).toBeGreaterThanOrEqual(2);
    const [audit] = await db.query<{ open: bigint; two: bigint; decided: bigint; disputes: bigint }>(
      `SELECT count(*) FILTER (WHERE c.state = 'open')::int8 AS open,
              count(*) FILTER (WHERE c.state = 'open' AND c.amount_minor >= (cfg.body->>'four_eyes_minor')::int8)::int8 AS two,
              count(*) FILTER (WHERE c.state = 'approved')::int8 AS decided,
              count(*) FILTER (WHERE c.kind = 'dispute')::int8 AS disputes
         FROM audit_cases c, (SELECT body FROM audit_configs WHERE tenant_id = $1 AND status = 'published') cfg
        WHERE c.tenant_id = $1`,
      [tenant_id],
    );
    expect(audit!.open).toBeGreaterThanOrEqual(3n);
    expect(audit!.two).toBeGreaterThanOrEqual(1n);
    expect(audit!.decided).toBe(1n);
    expect(audit!.disputes).toBe(1n);
  });
});
