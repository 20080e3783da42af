import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "./book.ts";
import { refundOrder } from "./order-lifecycle.ts";
import { getOrderDetail } from "./order-reads.ts";

// A platform coupon larger than the platform's commission is booked in the
// order's own journal transaction: the platform's expense account funds it,
// the merchant is credited in full, and refunds give the subsidy back.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const order = {
  id: "SUBSIDY-1",
  currency: "CNY",
  paid_at: "2026-11-25T10:00:00Z",
  merchant_id: "m-1001",
  lines: [{ line_id: "1", sku: "COAT", category: "grocery", qty: 1, unit_price_minor: 10000 }],
  coupons: [{ code: "NEWUSER", funded_by: "platform", amount_minor: 6000 }],
  paid_minor: 4000,
};

async function balance(tenant: string, party_id: string, purpose: string): Promise<bigint> {
  const [row] = await db.query<{ total: bigint }>(
    `SELECT coalesce(sum(p.amount_minor), 0)::int8 AS total FROM postings p
       JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
      WHERE p.tenant_id = $1 AND a.party_id = $2 AND a.purpose = $3`,
    [tenant, party_id, purpose],
  );
  return BigInt(row!.total);
}

describe("platform subsidy (service)", () => {
  it("funds the coupon from the platform's expense account and gives it back on refunds", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant);
    const [booked] = await bookOrders(ctx, tenant, [order]);
    expect(booked?.status).toBe("created");
    const detail = await getOrderDetail(db, { tenant_id: tenant, party_id: null }, order.id);
    const legs = detail.legs;
    const subsidy = legs.find((leg) => leg.rule_id === "platform_subsidy");
    // Grocery 400 bp of 10000 − 6000 = 160 commission; the 6000 coupon exceeds it.
    expect(subsidy?.amount_minor).toBe(-6000);
    expect(legs.reduce((sum, leg) => sum + leg.amount_minor, 0)).toBe(4000);
    expect(detail.flags).toContain("platform_subsidy");
    expect(await balance(tenant, "platform", "expense")).toBe(-6000n);
    // The merchant is credited 10000 − 160: nothing is left owed outside the split.
    expect(await balance(tenant, "m-1001", "held")).toBe(9840n);
    await refundOrder(ctx, tenant, order.id, { refund_id: "r1", amount_minor: 1000 }, "refund");
    expect(await balance(tenant, "platform", "expense")).toBe(-4500n);
    await refundOrder(ctx, tenant, order.id, { refund_id: "r2", amount_minor: 3000 }, "chargeback");
    expect(await balance(tenant, "platform", "expense")).toBe(0n);
    expect(await balance(tenant, "m-1001", "held")).toBe(0n);
    expect(await balance(tenant, "platform", "held")).toBe(0n);
    await expectLedgerInvariants(db, tenant);
  });
});

describe("order facts a party may see", () => {
  it("gives a supplier its own lines with its unit cost, and not the merchant's prices, coupons or referrers", async () => {
    const ctx: ServiceContext = { db, now: testClock("2026-11-25T10:00:00Z").now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant);
    const [booked] = await bookOrders(ctx, tenant, [example_order]);
    expect(booked?.status).toBe("created");
    const detail = await getOrderDetail(db, { tenant_id: tenant, party_id: "s-9" }, example_order.id);
    expect(detail.facts).toEqual({
      id: example_order.id,
      currency: "CNY",
      paid_at: example_order.paid_at,
      merchant_id: "m-1001",
      paid_minor: example_order.paid_minor,
      lines: [
        {
          line_id: "1",
          sku: "SKU-1",
          category: "electronics",
          qty: 2,
          supplier_id: "s-9",
          supplier_unit_cost_minor: 99000,
        },
      ],
    });
    const referrer = await getOrderDetail(db, { tenant_id: tenant, party_id: "r-7" }, example_order.id);
    expect(referrer.facts).not.toHaveProperty("lines");
    expect(JSON.stringify(referrer.facts)).not.toContain("PLAT10");
  });
});
