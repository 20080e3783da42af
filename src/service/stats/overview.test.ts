import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { bookOrders } from "../orders/book.ts";
import { refundOrder } from "../orders/order-lifecycle.ts";
import { getOrderDetail } from "../orders/order-reads.ts";
import { daysBetween, platformOverview } from "./overview.ts";

// The dashboard's figures agree with the orders they summarise: GMV and
// subsidies from the facts, commission from the platform's legs less what
// refunds took back, refunds by kind, and each figure on its UTC day.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("platform overview", () => {
  it("sums two orders, a refund and a chargeback into totals, days and categories", async () => {
    const clock = testClock("2026-11-25T12:00:00Z");
    const ctx = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "stats");
    await seedExampleMarketplace(ctx, tenant);
    const first = { ...order_json, id: "S-1", paid_at: "2026-11-24T10:00:00Z" };
    const second = { ...order_json, id: "S-2", paid_at: "2026-11-25T09:00:00Z" };
    await bookOrders(ctx, tenant, [first, second]);
    await refundOrder(ctx, tenant, "S-1", { refund_id: "R-1", amount_minor: 10_000 }, "refund");
    await refundOrder(ctx, tenant, "S-2", { refund_id: "C-1", amount_minor: 2_000 }, "chargeback");
    clock.set("2026-11-25T18:00:00Z");
    const overview = await platformOverview(db, tenant, { days: 7, now: clock.now() });
    expect(overview.currencies).toHaveLength(1);
    const cny = overview.currencies[0]!;
    expect(cny.currency).toBe("CNY");
    expect(cny.orders).toBe(2n);
    expect(cny.gmv_minor).toBe(2n * BigInt(order_json.paid_minor));
    expect(cny.subsidies_minor).toBe(2_000n); // the platform-funded PLAT10 coupon, twice
    expect(cny.refunds).toEqual({ count: 1n, amount_minor: 10_000n });
    expect(cny.chargebacks).toEqual({ count: 1n, amount_minor: 2_000n });
    // Commission: the platform's legs of both orders, less the platform's part of each reversal.
    const scope = { tenant_id: tenant, party_id: null };
    let platform = 0n;
    for (const id of ["S-1", "S-2"]) {
      const detail = await getOrderDetail(db, scope, id);
      for (const leg of detail.legs) if (leg.party_id === "platform") platform += BigInt(leg.amount_minor);
      for (const refund of detail.refunds)
        for (const leg of refund.reversal.legs)
          if (leg.party_id === "platform") platform -= BigInt(leg.amount_minor);
    }
    expect(platform).toBeGreaterThan(0n);
    expect(cny.commission_minor).toBe(platform);
    expect(cny.by_day.map((point) => point.day)).toEqual(daysBetween(overview.from, overview.to));
    const day = (iso: string) => cny.by_day.find((point) => point.day === iso)!;
    expect(day("2026-11-24").gmv_minor).toBe(BigInt(order_json.paid_minor));
    expect(day("2026-11-25").orders).toBe(1n);
    expect(day("2026-11-25").refunds_minor).toBe(10_000n);
    expect(day("2026-11-25").chargebacks_minor).toBe(2_000n);
    const electronics = cny.by_category.find((row) => row.category === "electronics")!;
    expect(electronics.gross_minor).toBe(2n * 2n * 129_900n);
    // Balances: everything booked sits in held (nothing released yet), and the ledger balances.
    expect(cny.balances.held_minor).toBeGreaterThan(0n);
    expect(cny.balances.available_minor).toBe(0n);
  });

  it("leaves orders outside the window out and bounds the window", async () => {
    const clock = testClock("2026-11-25T12:00:00Z");
    const ctx = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "stats");
    await seedExampleMarketplace(ctx, tenant);
    await bookOrders(ctx, tenant, [{ ...order_json, id: "OLD", paid_at: "2026-10-01T10:00:00Z" }]);
    const overview = await platformOverview(db, tenant, { days: 7, now: clock.now() });
    expect(overview.currencies[0]?.orders ?? 0n).toBe(0n);
    await expect(platformOverview(db, tenant, { days: 0, now: clock.now() })).rejects.toThrow();
    await expect(platformOverview(db, tenant, { days: 367, now: clock.now() })).rejects.toThrow();
  });
});
