import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isDomainError } from "../errors.ts";
import { allocate } from "./allocate.ts";
import { parseOrder } from "./order.ts";
import { parsePolicy } from "./policy.ts";
import { parseRefund } from "./refund.ts";
import { reverse } from "./reverse.ts";
import { isSubsidyLeg, subsidyOf } from "./subsidy.ts";
import { test_hash } from "./testing.ts";
import type { Allocation, Leg } from "./types.ts";

// The platform's coupon subsidy, over random orders: whatever the platform's
// coupons fund, every party other than the platform receives what the policy
// owes it for the goods, exactly as if the buyer had paid the coupon; the
// subsidy is booked as one negative platform leg; refunds give it back in
// proportion and, in the end, exactly.

const policyArb = fc
  .record({
    default_bp: fc.integer({ min: 0, max: 2000 }),
    line_min_minor: fc.option(fc.integer({ min: 0, max: 300 })),
    supplier_permille: fc.integer({ min: 0, max: 700 }),
    referral_bp: fc.integer({ min: 0, max: 800 }),
    bearer: fc.constantFrom("merchant", "receivers"),
    tax_bp: fc.integer({ min: 0, max: 1500 }),
  })
  .map((raw) => ({
    raw,
    json: {
      policy_id: "subsidy",
      version: 1,
      currency: "CNY",
      base: "line_net",
      parties: { platform: "platform", tax_authority: "tax", logistics: "logi" },
      rules: [
        { id: "supplier", kind: "supplier_cost" },
        {
          id: "commission",
          kind: "commission",
          default_bp: raw.default_bp,
          ...(raw.line_min_minor === null ? {} : { line_min_minor: raw.line_min_minor }),
        },
        { id: "referral", kind: "referral", level1_bp: raw.referral_bp, level2_bp: 0 },
        {
          id: "psp_fee",
          kind: "psp_fee",
          bearer: raw.bearer,
          providers: { wechat: { fee_refunded: false } },
        },
        { id: "tax", kind: "tax", role: "merchant", bp: raw.tax_bp },
        { id: "cap", kind: "cap", bp: 10000, mode: "audit", exempt_roles: ["psp", "supplier"] },
        { id: "remainder", kind: "remainder", absorbed_by: ["referrer", "supplier"] },
      ],
    },
  }));

const orderArb = fc.record({
  prices: fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 4 }),
  coupon_permille: fc.integer({ min: 1, max: 999 }),
  fee_permille: fc.integer({ min: 0, max: 10 }),
  referred: fc.boolean(),
});

function orders(
  raw: { prices: number[]; coupon_permille: number; fee_permille: number; referred: boolean },
  supplier_permille: number,
) {
  const lines = raw.prices.map((price, index) => ({
    line_id: String(index + 1),
    sku: `S${index}`,
    category: "general",
    qty: 1,
    unit_price_minor: price,
    ...(index === 0
      ? { supplier_id: "s-1", supplier_unit_cost_minor: Math.floor((price * supplier_permille) / 1000) }
      : {}),
  }));
  const goods = raw.prices.reduce((sum, price) => sum + price, 0);
  const coupon = Math.max(1, Math.floor((goods * raw.coupon_permille) / 1000));
  const fee = Math.floor(((goods - coupon) * raw.fee_permille) / 1000);
  const common = {
    currency: "CNY",
    paid_at: "2026-11-25T10:00:00Z",
    merchant_id: "m-1",
    buyer_ref: "u-1",
    referrers: raw.referred ? ["r-1"] : [],
    lines,
    ...(fee > 0 ? { psp: { provider: "wechat", reference: "ref", fee_minor: fee } } : {}),
  };
  return {
    coupon,
    with_coupon: {
      id: "O-A",
      ...common,
      coupons: [{ code: "P", funded_by: "platform", amount_minor: coupon }],
      paid_minor: goods - coupon,
    },
    buyer_paid: { id: "O-A", ...common, paid_minor: goods },
  };
}

function tryAllocate(policy: unknown, order: unknown): Allocation | undefined {
  try {
    return allocate(parsePolicy(policy), parseOrder(order), { policy_hash: test_hash });
  } catch (error) {
    if (isDomainError(error) && error.code === "split_merchant_negative") return undefined;
    throw error;
  }
}

const key = (leg: Leg) => `${leg.rule_id}|${leg.role}|${leg.party_id}|${leg.line_id ?? ""}`;
const byKey = (legs: readonly Leg[]) => new Map(legs.map((leg) => [key(leg), leg.amount_minor]));

describe("platform subsidy", () => {
  it("pays every party what it is owed as if the buyer had paid the coupon, and books the subsidy as one negative leg", () => {
    let subsidised = 0;
    fc.assert(
      fc.property(policyArb, orderArb, ({ raw, json }, order_raw) => {
        const { coupon, with_coupon, buyer_paid } = orders(order_raw, raw.supplier_permille);
        if (with_coupon.paid_minor <= 0) return;
        const a = tryAllocate(json, with_coupon);
        const b = tryAllocate(json, buyer_paid);
        if (a === undefined || b === undefined) return;
        let sum = 0n;
        for (const leg of a.legs) sum += leg.amount_minor;
        expect(sum).toBe(BigInt(with_coupon.paid_minor));
        const subsidy_minor = subsidyOf(a.legs);
        expect(a.flags.includes("platform_subsidy")).toBe(subsidy_minor > 0n);
        expect(a.legs.filter(isSubsidyLeg).length).toBe(subsidy_minor > 0n ? 1 : 0);
        // The policy's commission, exactly, in units of 1/10 000 minor (line minimum applied).
        let commission = 0n;
        for (const price of order_raw.prices) {
          const rated = BigInt(price) * BigInt(raw.default_bp);
          const floor = BigInt(raw.line_min_minor ?? 0) * 10_000n;
          commission += rated < floor ? floor : rated;
        }
        const exceeds = BigInt(coupon) * 10_000n > commission;
        expect(subsidy_minor > 0n).toBe(exceeds);
        if (!exceeds) return;
        subsidised += 1;
        // Exceeds the commission: the platform funds all of it, and every other leg
        // (commission included) is exactly the buyer-paid order's leg.
        expect(subsidy_minor).toBe(BigInt(coupon));
        const expected = byKey(b.legs);
        const actual = byKey(a.legs.filter((leg) => !isSubsidyLeg(leg)));
        expect(actual).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
    expect(subsidised).toBeGreaterThan(100);
  });

  it("gives the subsidy back in proportion on each refund, and exactly in full on the last", () => {
    fc.assert(
      fc.property(
        policyArb,
        orderArb,
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 4 }),
        ({ raw, json }, order_raw, parts) => {
          const { with_coupon } = orders(order_raw, raw.supplier_permille);
          if (with_coupon.paid_minor <= 0) return;
          const allocation = tryAllocate(json, with_coupon);
          if (allocation === undefined) return;
          const subsidy_minor = subsidyOf(allocation.legs);
          if (subsidy_minor === 0n) return;
          const paid = BigInt(with_coupon.paid_minor);
          const weights = parts.reduce((sum, part) => sum + part, 0);
          let given = 0n;
          const amounts = parts.map((part, index) => {
            const amount =
              index === parts.length - 1 ? paid - given : (paid * BigInt(part)) / BigInt(weights);
            given += amount;
            return amount;
          });
          const refunds = amounts
            .filter((amount) => amount > 0n)
            .map((amount, index) => parseRefund({ refund_id: `R${index}`, amount_minor: Number(amount) }));
          const policy = parsePolicy(json);
          const order = parseOrder(with_coupon);
          let subsidy_back = 0n;
          let refunded = 0n;
          refunds.forEach((refund, index) => {
            const reversal = reverse(policy, order, allocation, refunds.slice(0, index), refund);
            const back = subsidyOf(reversal.legs);
            // In proportion: the subsidy still funding the order × refund / not yet refunded, toward zero.
            const still = subsidy_minor - subsidy_back;
            expect(back).toBe((still * reversal.refund_minor) / (paid - refunded));
            subsidy_back += back;
            refunded += reversal.refund_minor;
          });
          expect(refunded).toBe(paid);
          expect(subsidy_back).toBe(subsidy_minor);
        },
      ),
      { numRuns: 500 },
    );
  });
});
