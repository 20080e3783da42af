import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock, turnTriggersOffLocally } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { releaseOrder } from "../orders/order-lifecycle.ts";
import { auditLog } from "../tlog/log-audit.ts";
import { LogKeyStore } from "../tlog/signing-keys.ts";
import { sequenceAll } from "../tlog/testing.ts";
import { runSettlement } from "./settlement-run.ts";

// A payout's log record rebuilds to the logged hash when its entries' time
// order differs from their transactions' id order: here the clock steps back
// five minutes between two releases, so the later transaction is the earlier
// entry. The simulation found verify db reporting such payouts CHANGED.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("payout records", () => {
  it("rebuild with their entries in the order the run covered them, whatever the ids' order", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "payout-order");
    await seedExampleMarketplace(ctx, tenant);
    const ids = ["PO-ORDER-1", "PO-ORDER-2"];
    const results = await bookOrders(
      ctx,
      tenant,
      ids.map((id) => ({ ...order_json, id })),
    );
    expect(results.map((result) => result.status)).toEqual(["created", "created"]);
    clock.advance(3_600_000);
    await releaseOrder(ctx, tenant, ids[0]!);
    clock.advance(-5 * 60_000);
    await releaseOrder(ctx, tenant, ids[1]!);
    clock.advance(2 * 86_400_000);
    const run = await runSettlement(ctx, tenant, { trigger: "api" });
    expect(run.paid.length).toBeGreaterThan(0);
    // Every record, however long another backend holds the commit horizon back.
    await sequenceAll(ctx, tenant, new LogKeyStore());
    const report = await auditLog(db, tenant, { grace_ms: 0, now: clock.now() });
    expect(report.findings).toEqual([]);

    // Raised out of band, a payout is named CHANGED in plain words: its record
    // has no postings to sum, so no "unbalanced by undefined".
    await db.transaction(async (tx) => {
      await turnTriggersOffLocally(tx);
      await tx.query(
        "UPDATE payouts SET amount_minor = amount_minor + 100000 WHERE tenant_id = $1 AND id = $2",
        [tenant, run.paid[0]!.payout_id],
      );
    });
    const tampered = await auditLog(db, tenant, { grace_ms: 0, now: clock.now() });
    const changed = tampered.findings.filter((finding) => finding.finding === "CHANGED");
    expect(changed.map((finding) => finding.record_kind)).toEqual(["settlement_batch"]);
    expect(changed[0]!.detail).toBe("its settlement batch rows now rebuild to a different record");
  }, 120_000);
});
