import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { partyBalances } from "../parties/party-reads.ts";
import { bookOrders } from "./book.ts";
import { completeOrder, refundOrder, releaseDue } from "./order-lifecycle.ts";
import { getOrderDetail } from "./order-reads.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("order lifecycle (service)", () => {
  it("books, completes, releases after the window, refunds after release into debt", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant, 60_000);
    const [booked] = await bookOrders(ctx, tenant, [order_json]);
    expect(booked?.status).toBe("created");
    const scope = { tenant_id: tenant, party_id: null };
    const held = await partyBalances(db, scope, "m-1001");
    expect(held[0]!.held_minor > 0n).toBe(true);
    await completeOrder(ctx, tenant, order_json.id);
    expect(await releaseDue(ctx, tenant)).toBe(0);
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    const after = await partyBalances(db, scope, "m-1001");
    expect(after[0]!.held_minor).toBe(0n);
    expect(after[0]!.available_minor).toBe(held[0]!.held_minor);
    await refundOrder(ctx, tenant, order_json.id, { refund_id: "r1", amount_minor: 100000 }, "refund");
    const detail = await getOrderDetail(db, scope, order_json.id);
    expect(detail.refund_state).toBe("partially_refunded");
    expect(detail.state).toBe("released");
    await expectLedgerInvariants(db, tenant);
  });
});
