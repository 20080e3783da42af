import { describe, expect, it } from "vitest";
import { allocate } from "./allocate.ts";
import { parseOrder } from "./order.ts";
import { parsePolicy } from "./policy.ts";
import { line, orderOf, policyOf, test_hash } from "./testing.ts";
import type { Allocation } from "./types.ts";

// Each golden case states its arithmetic; amounts are in fen (CNY minor units).
const commission = (more: Record<string, unknown> = {}) => ({
  id: "commission",
  kind: "commission",
  default_bp: 500,
  ...more,
});

function amounts(allocation: Allocation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const leg of allocation.legs)
    out[`${leg.rule_id}:${leg.party_id}:${leg.line_id ?? "-"}`] = Number(leg.amount_minor);
  return out;
}

const run = (
  rules: unknown[],
  lines: unknown[],
  order: Record<string, unknown> = {},
  policy: Record<string, unknown> = {},
) => allocate(policyOf(rules, policy), orderOf(lines, order), { policy_hash: test_hash });

describe("allocate: golden cases", () => {
  it("takes the commission by category with a default, and the merchant keeps the rest net of the fee", () => {
    // electronics 300 bp of 10000 = 300; other 500 bp of 2000 = 100; fee 70 borne by the merchant.
    // merchant = 12000 − 300 − 100 − 70 = 11530.
    const allocation = run(
      [
        commission({ by_category: { electronics: 300 } }),
        { id: "psp_fee", kind: "psp_fee", bearer: "merchant" },
      ],
      [line("1", 10000, { category: "electronics" }), line("2", 2000)],
      { psp: { provider: "wechat", reference: "x", fee_minor: 70 } },
    );
    expect(amounts(allocation)).toEqual({
      "commission:platform:1": 300,
      "commission:platform:2": 100,
      "psp_fee:psp:wechat:-": 70,
      "remainder:m-1:-": 11530,
    });
    expect(allocation.legs[0]).toMatchObject({ basis_minor: 10000n, rate_bp: 300, role: "platform" });
  });

  it("breaks rounding ties by line id within one rule", () => {
    // 50 bp of 100 = 0.5 on each line; merchant exact 200 − 1 = 199. Floors 0 + 0 + 199 leave 1 unit;
    // the two 0.5 remainders tie and line 1 comes first, so line 1 gets it and line 2 rounds to zero.
    const allocation = run([commission({ default_bp: 50 })], [line("2", 100), line("1", 100)]);
    expect(amounts(allocation)).toEqual({ "commission:platform:1": 1, "remainder:m-1:-": 199 });
  });

  it("breaks rounding ties by rule order, then by party id", () => {
    // Referral 50 bp of 100 = 0.5 and commission 50 bp of 100 = 0.5; merchant exact 99. One unit left.
    const referral = { id: "referral", kind: "referral", level1_bp: 50, level2_bp: 0 };
    const order = { referrers: ["r-1"] };
    const first = run([referral, commission({ default_bp: 50 })], [line("1", 100)], order);
    expect(amounts(first)).toEqual({ "referral:r-1:1": 1, "remainder:m-1:-": 99 });
    const second = run([commission({ default_bp: 50 }), referral], [line("1", 100)], order);
    expect(amounts(second)).toEqual({ "commission:platform:1": 1, "remainder:m-1:-": 99 });
    // Same rule, two referrers at 50 bp each: r-a (level 2) precedes r-b (level 1) by party id.
    const both = run([commission({ default_bp: 0 }), { ...referral, level2_bp: 50 }], [line("1", 100)], {
      referrers: ["r-b", "r-a"],
    });
    expect(amounts(both)).toEqual({ "referral:r-a:1": 1, "remainder:m-1:-": 99 });
  });

  it("prices by merchant override, then GMV tier, then the base table, with line min and max", () => {
    const rule = commission({
      default_bp: 500,
      by_category: { books: 100 },
      merchants: { "m-vip": { default_bp: 200 } },
      tiers: [{ gmv_30d_min_minor: 1_000_000, default_bp: 300 }],
      line_min_minor: 50,
      line_max_minor: 400,
    });
    const policy = policyOf([rule]);
    const lines = [line("1", 10000), line("2", 2000, { category: "books" }), line("3", 100_000)];
    // Below the tier: 500 bp of 10000 = 500 → capped at 400; books 100 bp of 2000 = 20 → raised to 50;
    // 500 bp of 100000 = 5000 → capped at 400.
    const low = allocate(policy, orderOf(lines), {
      policy_hash: test_hash,
      merchant_gmv_30d_minor: 999_999n,
    });
    expect(amounts(low)).toMatchObject({ "commission:platform:1": 400, "commission:platform:2": 50 });
    // At the tier: its default 300 bp replaces the base default: 300 bp of 10000 = 300. Books keep 100 bp
    // only if the tier has no default, and it has one: 300 bp of 2000 = 60.
    const tier = allocate(policy, orderOf(lines), {
      policy_hash: test_hash,
      merchant_gmv_30d_minor: 1_000_000n,
    });
    expect(amounts(tier)).toMatchObject({ "commission:platform:1": 300, "commission:platform:2": 60 });
    // The merchant override wins over everything: 200 bp of 10000 = 200; 200 bp of 2000 = 40 → raised to 50.
    const vip = allocate(policy, orderOf(lines, { merchant_id: "m-vip" }), {
      policy_hash: test_hash,
      merchant_gmv_30d_minor: 0n,
    });
    expect(amounts(vip)).toMatchObject({ "commission:platform:1": 200, "commission:platform:2": 50 });
    expect(() => allocate(policy, orderOf(lines), { policy_hash: test_hash })).toThrow(
      expect.objectContaining({ code: "context_gmv_missing" }),
    );
  });

  it("pays the supplier qty × unit cost out of the merchant's share", () => {
    // 3 × 2500 = 7500 to s-1; commission 500 bp of 9000 = 450; merchant 9000 − 7500 − 450 = 1050.
    const allocation = run(
      [
        { id: "supplier", kind: "supplier_cost" },
        commission(),
        { id: "cap", kind: "cap", exempt_roles: ["psp", "supplier"] },
      ],
      [line("1", 3000, { qty: 3, supplier_id: "s-1", supplier_unit_cost_minor: 2500 })],
    );
    expect(amounts(allocation)).toEqual({
      "supplier:s-1:1": 7500,
      "commission:platform:1": 450,
      "remainder:m-1:-": 1050,
    });
  });

  it("pays two referral levels, skips a self-referral and a category switched off, and says why", () => {
    // Level 1 is the buyer: nothing, recorded. Level 2 r-2 gets 100 bp of line 1 (10000) = 100, and is
    // switched off for grocery on line 2. Commission 0. Merchant 12000 − 100 = 11900.
    const allocation = run(
      [
        commission({ default_bp: 0 }),
        {
          id: "referral",
          kind: "referral",
          level1_bp: 300,
          level2_bp: 100,
          level2_off_categories: ["grocery"],
        },
      ],
      [line("1", 10000), line("2", 2000, { category: "grocery" })],
      { buyer_ref: "r-1", referrers: ["r-1", "r-2"] },
    );
    expect(amounts(allocation)).toEqual({ "referral:r-2:1": 100, "remainder:m-1:-": 11900 });
    expect(allocation.explanation.join("\n")).toMatch(/referrer r-1: the referrer is the buyer/);
    expect(allocation.explanation.join("\n")).toMatch(/line 2: level 2 is off for grocery/);
  });

  it("makes the merchant whole for platform coupons and charges merchant coupons to the merchant", () => {
    // Lines 6000 and 4000; coupons 1000 platform + 500 merchant = 1500, spread 900 / 600.
    // Base after coupons: 5100 and 3400. Commission 1000 bp: 510 + 340 = 850.
    // Commission 2000 bp: 1020 + 680 = 1700; less the 1000 platform coupon pro rata:
    // 1020 × 700/1700 = 420 and 680 × 700/1700 = 280.
    // Paid 10000 − 1500 = 8500; merchant 8500 − 700 = 7800 = (10000 − 500 merchant coupon) − 1700 commission.
    const allocation = run(
      [commission({ default_bp: 2000 })],
      [line("1", 6000), line("2", 4000)],
      {
        coupons: [
          { code: "P", funded_by: "platform", amount_minor: 1000 },
          { code: "M", funded_by: "merchant", amount_minor: 500 },
        ],
      },
      { base: "line_net_after_coupons" },
    );
    expect(amounts(allocation)).toEqual({
      "commission:platform:1": 420,
      "commission:platform:2": 280,
      "remainder:m-1:-": 7800,
    });
  });

  it("books a platform coupon larger than the commission as the platform's negative subsidy leg", () => {
    // Commission 800 bp of 10000 = 800; platform coupon 5000 > 800: the platform keeps its 800
    // commission leg and funds the 5000 in a −5000 subsidy leg; merchant 5000 + 5000 − 800 = 9200.
    const allocation = run([commission({ default_bp: 800 })], [line("1", 10000)], {
      coupons: [{ code: "P", funded_by: "platform", amount_minor: 5000 }],
    });
    expect(amounts(allocation)).toEqual({
      "platform_subsidy:platform:-": -5000,
      "commission:platform:1": 800,
      "remainder:m-1:-": 9200,
    });
    expect(allocation.legs.reduce((sum, leg) => sum + leg.amount_minor, 0n)).toBe(5000n);
    expect(allocation.flags).toContain("platform_subsidy");
    expect(allocation.explanation.join("\n")).toMatch(/funds all 50\.00 from its own account/);
  });

  it("sends shipping to the merchant by default and to the logistics party when the policy says so", () => {
    // Commission 500 bp of 1000 = 50; shipping 300. Merchant: 1300 − 50 = 1250, or 1000 − 50 = 950.
    const lines = [line("1", 1000)];
    expect(amounts(run([commission()], lines, { shipping_minor: 300 }))).toEqual({
      "commission:platform:1": 50,
      "remainder:m-1:-": 1250,
    });
    const to_logistics = run([commission(), { id: "ship", kind: "shipping", to: "logistics" }], lines, {
      shipping_minor: 300,
    });
    expect(amounts(to_logistics)).toEqual({
      "commission:platform:1": 50,
      "ship:logi:-": 300,
      "remainder:m-1:-": 950,
    });
  });

  it("lets the platform or every receiver bear the PSP fee", () => {
    const psp = { psp: { provider: "alipay", reference: "x", fee_minor: 60 } };
    // Platform bears: commission 1000 bp of 10000 = 1000, less 60 = 940; merchant 10000 − 1000 = 9000.
    const platform = run(
      [commission({ default_bp: 1000 }), { id: "fee", kind: "psp_fee", bearer: "platform" }],
      [line("1", 10000)],
      psp,
    );
    expect(amounts(platform)).toEqual({
      "commission:platform:1": 940,
      "fee:psp:alipay:-": 60,
      "remainder:m-1:-": 9000,
    });
    // Receivers bear: every share × (10000 − 60)/10000: platform 1000 → 994, merchant 9000 → 8946.
    const receivers = run(
      [
        commission({ default_bp: 1000 }),
        { id: "fee", kind: "psp_fee", bearer: "receivers", providers: { alipay: { party_id: "ali" } } },
      ],
      [line("1", 10000)],
      psp,
    );
    expect(amounts(receivers)).toEqual({
      "commission:platform:1": 994,
      "fee:ali:-": 60,
      "remainder:m-1:-": 8946,
    });
  });

  it("withholds tax from the chosen role's share and pays it to the tax authority", () => {
    // Referral 1000 bp of 5000 = 500; tax 2000 bp of 500 = 100 → referrer 400.
    // Commission 0; merchant 5000 − 500 = 4500.
    const allocation = run(
      [
        commission({ default_bp: 0 }),
        { id: "referral", kind: "referral", level1_bp: 1000 },
        { id: "tax", kind: "tax", role: "referrer", bp: 2000 },
      ],
      [line("1", 5000)],
      { referrers: ["r-1"] },
    );
    expect(amounts(allocation)).toEqual({ "referral:r-1:1": 400, "tax:tax:1": 100, "remainder:m-1:-": 4500 });
  });

  it("enforces the cap on non-merchant legs: strict throws, audit flags", () => {
    // Commission 4000 bp of 1000 = 400 > 30% of 1000 = 300.
    const lines = [line("1", 1000)];
    expect(() => run([commission({ default_bp: 4000 })], lines)).toThrow(
      expect.objectContaining({ code: "split_cap_exceeded" }),
    );
    const audit = run([commission({ default_bp: 4000 }), { id: "cap", kind: "cap", mode: "audit" }], lines);
    expect(audit.flags).toEqual(["cap_exceeded"]);
    expect(amounts(audit)).toEqual({ "commission:platform:1": 400, "remainder:m-1:-": 600 });
    // Exactly at the cap is allowed: 3000 bp of 1000 = 300.
    expect(run([commission({ default_bp: 3000 })], lines).flags).toEqual([]);
  });

  it("keeps the merchant from going negative by taking from the absorbers, and refuses when it cannot", () => {
    // Paid 8000 after a 2000 merchant coupon on a 10000 line. Supplier 7700, commission 600 bp of 8000 = 480.
    // Merchant 8000 − 8180 = −180: the platform absorbs 180 → 300; merchant 0 (no leg).
    const rules = [
      { id: "supplier", kind: "supplier_cost" },
      commission({ default_bp: 600 }),
      { id: "cap", kind: "cap", mode: "audit" },
    ];
    const order = { coupons: [{ code: "M", funded_by: "merchant", amount_minor: 2000 }] };
    const supplied = (cost: number) => [
      line("1", 10000, { supplier_id: "s-1", supplier_unit_cost_minor: cost }),
    ];
    const allocation = run(rules, supplied(7700), order, { base: "line_net_after_coupons" });
    expect(amounts(allocation)).toEqual({ "supplier:s-1:1": 7700, "commission:platform:1": 300 });
    expect(allocation.flags).toContain("merchant_negative_absorbed");
    expect(allocation.explanation.join("\n")).toMatch(/platform absorbs 1\.80/);
    // Supplier 8100 + commission 480 leaves −580; the platform's 480 cannot cover it, so the policy refuses.
    expect(() => run(rules, supplied(8100), order, { base: "line_net_after_coupons" })).toThrow(
      expect.objectContaining({ code: "split_merchant_negative", field: "policy.remainder.absorbed_by" }),
    );
  });

  it("splits the issue's B2B2C example exactly as the hand arithmetic says", () => {
    // Coupons 1500 over nets 254800 and 19900 (Σ 274700): 1391.336… and 108.663…; floors 1391 + 108,
    // the unit goes to line 2 (remainder .663 > .336): 1391 and 109. Bases 253409 and 19791.
    // Supplier 2 × 99000 = 198000. Commission 600 bp × 253409 = 15204.54, 1000 bp × 19791 = 1979.10
    // (Σ 17183.64); less the 1000 platform coupon pro rata: × 16183.64/17183.64 = 14319.71… and 1863.93….
    // Referral r-7 200 bp: 5068.18 and 395.82; r-3 50 bp: 1267.045 and 98.955; each less 20% tax:
    // r-7 4054.544 and 316.656, r-3 1013.636 and 79.164; tax per line 1267.045 and 98.955.
    // Shipping 1000 to logistics, fee 1645 borne by the merchant.
    // Merchant = 274200 − all of the above = 50541.36. Floors sum to 274195: 5 units go to the largest
    // remainders: tax line 2 (.955), platform line 2 (.926), platform line 1 (.714), r-7 line 2 (.656),
    // r-3 line 1 (.636).
    const policy = parsePolicy({
      policy_id: "golden",
      version: 1,
      currency: "CNY",
      base: "line_net_after_coupons",
      parties: { platform: "platform", tax_authority: "tax-cn", logistics: "logi" },
      rules: [
        { id: "supplier", kind: "supplier_cost" },
        { id: "commission", kind: "commission", by_category: { electronics: 600, apparel: 1000 } },
        { id: "referral", kind: "referral", level1_bp: 200, level2_bp: 50 },
        { id: "shipping", kind: "shipping", to: "logistics" },
        { id: "psp_fee", kind: "psp_fee", bearer: "merchant" },
        { id: "tax", kind: "tax", role: "referrer", bp: 2000 },
        { id: "cap", kind: "cap", mode: "audit", exempt_roles: ["psp", "supplier", "logistics"] },
      ],
    });
    const order = parseOrder({
      id: "WST20261125000123",
      currency: "CNY",
      paid_at: "2026-11-25T10:00:00Z",
      merchant_id: "m-1001",
      buyer_ref: "u-42",
      referrers: ["r-7", "r-3"],
      lines: [
        {
          line_id: "1",
          sku: "SKU-1",
          category: "electronics",
          qty: 2,
          unit_price_minor: 129900,
          merchant_discount_minor: 5000,
          supplier_id: "s-9",
          supplier_unit_cost_minor: 99000,
        },
        { line_id: "2", sku: "SKU-7", category: "apparel", qty: 1, unit_price_minor: 19900 },
      ],
      coupons: [
        { code: "PLAT10", funded_by: "platform", amount_minor: 1000 },
        { code: "SHOP5", funded_by: "merchant", amount_minor: 500 },
      ],
      shipping_minor: 1000,
      paid_minor: 274200,
      psp: { provider: "wechat", reference: "4200000925202101284997714292", fee_minor: 1645 },
    });
    const allocation = allocate(policy, order, { policy_hash: test_hash });
    expect(amounts(allocation)).toEqual({
      "supplier:s-9:1": 198000,
      "commission:platform:1": 14320,
      "commission:platform:2": 1864,
      "referral:r-3:1": 1014,
      "referral:r-3:2": 79,
      "referral:r-7:1": 4054,
      "referral:r-7:2": 317,
      "shipping:logi:-": 1000,
      "psp_fee:psp:wechat:-": 1645,
      "tax:tax-cn:1": 1267,
      "tax:tax-cn:2": 99,
      "remainder:m-1001:-": 50541,
    });
    expect(allocation.legs.map((leg) => leg.rule_id)).toEqual([
      "supplier",
      "commission",
      "commission",
      "referral",
      "referral",
      "referral",
      "referral",
      "shipping",
      "psp_fee",
      "tax",
      "tax",
      "remainder",
    ]);
  });
});
