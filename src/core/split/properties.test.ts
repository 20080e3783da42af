import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isDomainError } from "../errors.ts";
import { allocate } from "./allocate.ts";
import { allocationToJson } from "./allocation-json.ts";
import { parseOrder } from "./order.ts";
import { parsePolicy } from "./policy.ts";
import { parseRefund, type Refund } from "./refund.ts";
import { reverse } from "./reverse.ts";
import { test_hash } from "./testing.ts";
import type { Allocation, Leg } from "./types.ts";

// Random orders and policies, thousands of them: the invariants below must hold
// for every one, or the engine must refuse with a domain error it documents.
const categories = ["a", "b", "c"];
const parties = ["r-1", "r-2", "u-1"];

const lineArb = fc
  .record({
    qty: fc.integer({ min: 1, max: 5 }),
    unit_price_minor: fc.integer({ min: 0, max: 200_000 }),
    discount_permille: fc.integer({ min: 0, max: 1000 }),
    category: fc.constantFrom(...categories),
    supplier: fc.option(
      fc.record({ id: fc.constantFrom("s-1", "s-2"), permille: fc.integer({ min: 0, max: 900 }) }),
    ),
  })
  .map((raw) => raw);

const orderArb = fc
  .record({
    lines: fc.array(lineArb, { minLength: 1, maxLength: 6 }),
    platform_coupon_permille: fc.integer({ min: 0, max: 600 }),
    merchant_coupon_permille: fc.integer({ min: 0, max: 300 }),
    shipping_minor: fc.integer({ min: 0, max: 2000 }),
    referrers: fc.subarray(parties, { maxLength: 2 }),
    buyer_ref: fc.constantFrom("u-1", "r-1", "u-9"),
    provider: fc.option(
      fc.record({ name: fc.constantFrom("wechat", "alipay"), fee_permille: fc.integer({ min: 0, max: 20 }) }),
    ),
  })
  .map((raw) => {
    const lines = raw.lines.map((entry, index) => {
      const gross = entry.qty * entry.unit_price_minor;
      return {
        line_id: String(index + 1),
        sku: `SKU-${index}`,
        category: entry.category,
        qty: entry.qty,
        unit_price_minor: entry.unit_price_minor,
        merchant_discount_minor: Math.floor((gross * entry.discount_permille) / 1000 / 5),
        ...(entry.supplier
          ? {
              supplier_id: entry.supplier.id,
              supplier_unit_cost_minor: Math.floor((entry.unit_price_minor * entry.supplier.permille) / 1000),
            }
          : {}),
      };
    });
    const goods = lines.reduce((sum, l) => sum + l.qty * l.unit_price_minor - l.merchant_discount_minor, 0);
    const platform = Math.floor((goods * raw.platform_coupon_permille) / 1000);
    const merchant = Math.floor((goods * raw.merchant_coupon_permille) / 1000);
    const coupons = [
      ...(platform > 0 ? [{ code: "P", funded_by: "platform", amount_minor: platform }] : []),
      ...(merchant > 0 ? [{ code: "M", funded_by: "merchant", amount_minor: merchant }] : []),
    ];
    const paid = goods - platform - merchant + raw.shipping_minor;
    return {
      id: "O-prop",
      currency: "CNY",
      paid_at: "2026-11-25T10:00:00Z",
      merchant_id: "m-1",
      buyer_ref: raw.buyer_ref,
      referrers: raw.referrers,
      lines,
      coupons,
      shipping_minor: raw.shipping_minor,
      paid_minor: paid,
      ...(raw.provider
        ? {
            psp: {
              provider: raw.provider.name,
              reference: "ref",
              fee_minor: Math.floor((paid * raw.provider.fee_permille) / 1000),
            },
          }
        : {}),
    };
  })
  .filter((order) => order.paid_minor > 0);

const policyArb = fc
  .record({
    base: fc.constantFrom("line_net", "line_net_after_coupons"),
    default_bp: fc.integer({ min: 0, max: 3000 }),
    category_bp: fc.integer({ min: 0, max: 3000 }),
    line_max_minor: fc.option(fc.integer({ min: 0, max: 5000 })),
    line_min_minor: fc.option(fc.integer({ min: 0, max: 50 })),
    referral: fc.option(
      fc.record({ l1: fc.integer({ min: 0, max: 1000 }), l2: fc.integer({ min: 0, max: 500 }) }),
    ),
    shipping_to: fc.constantFrom("merchant", "logistics"),
    bearer: fc.constantFrom("merchant", "platform", "receivers"),
    wechat_refunded: fc.boolean(),
    tax: fc.option(
      fc.record({
        role: fc.constantFrom("merchant", "referrer", "platform", "supplier"),
        bp: fc.integer({ min: 0, max: 3000 }),
      }),
    ),
    cap: fc.record({ bp: fc.integer({ min: 0, max: 10000 }), mode: fc.constantFrom("strict", "audit") }),
  })
  .map((raw) => ({
    policy_id: "prop",
    version: 1,
    currency: "CNY",
    base: raw.base,
    parties: { platform: "platform", tax_authority: "tax", logistics: "logi" },
    rules: [
      { id: "supplier", kind: "supplier_cost" },
      {
        id: "commission",
        kind: "commission",
        default_bp: raw.default_bp,
        by_category: { b: raw.category_bp },
        ...(raw.line_max_minor === null ? {} : { line_max_minor: raw.line_max_minor }),
        ...(raw.line_min_minor === null ||
        (raw.line_max_minor !== null && raw.line_min_minor > raw.line_max_minor)
          ? {}
          : { line_min_minor: raw.line_min_minor }),
      },
      ...(raw.referral
        ? [
            {
              id: "referral",
              kind: "referral",
              level1_bp: raw.referral.l1,
              level2_bp: raw.referral.l2,
              level2_off_categories: ["c"],
            },
          ]
        : []),
      { id: "shipping", kind: "shipping", to: raw.shipping_to },
      {
        id: "psp_fee",
        kind: "psp_fee",
        bearer: raw.bearer,
        providers: { wechat: { fee_refunded: raw.wechat_refunded } },
      },
      ...(raw.tax ? [{ id: "tax", kind: "tax", role: raw.tax.role, bp: raw.tax.bp }] : []),
      {
        id: "cap",
        kind: "cap",
        bp: raw.cap.bp,
        mode: raw.cap.mode,
        exempt_roles: ["psp", "supplier", "logistics"],
      },
      { id: "remainder", kind: "remainder", absorbed_by: ["platform", "referrer", "supplier", "logistics"] },
    ],
  }));

/** Allocates, or returns the documented refusal code. */
function tryAllocate(policy_json: unknown, order_json: unknown): Allocation | string {
  try {
    return allocate(parsePolicy(policy_json), parseOrder(order_json), { policy_hash: test_hash });
  } catch (error) {
    if (isDomainError(error) && ["split_cap_exceeded", "split_merchant_negative"].includes(error.code))
      return error.code;
    throw error;
  }
}

function shuffleKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((entry) => shuffleKeys(entry, random));
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).map(([key, entry]) => [key, shuffleKeys(entry, random)] as const);
  entries.sort(() => random() - 0.5);
  return Object.fromEntries(entries);
}

const legKey = (leg: Leg) => `${leg.rule_id}|${leg.role}|${leg.party_id}|${leg.line_id ?? ""}`;
const runs = { numRuns: 1500 };

describe("allocation properties", () => {
  it("sums exactly to paid, never pays a negative or zero leg, and respects the cap", () => {
    let allocated = 0;
    fc.assert(
      fc.property(policyArb, orderArb, (policy_json, order_json) => {
        const result = tryAllocate(policy_json, order_json);
        if (typeof result === "string") return;
        allocated += 1;
        expect(result.legs.reduce((sum, leg) => sum + leg.amount_minor, 0n)).toBe(
          BigInt(order_json.paid_minor),
        );
        for (const leg of result.legs) expect(leg.amount_minor > 0n).toBe(true);
        const capped = result.legs
          .filter((leg) => !["merchant", "psp", "supplier", "logistics"].includes(leg.role))
          .reduce((sum, leg) => sum + leg.amount_minor, 0n);
        const cap_rule = policy_json.rules.find((rule) => rule.kind === "cap") as {
          bp: number;
          mode: string;
        };
        const cap_minor = (BigInt(order_json.paid_minor) * BigInt(cap_rule.bp)) / 10000n;
        if (cap_rule.mode === "strict") expect(capped <= cap_minor).toBe(true);
        else expect(result.flags.includes("cap_exceeded")).toBe(capped > cap_minor);
      }),
      runs,
    );
    expect(allocated).toBeGreaterThan(runs.numRuns / 2);
  });

  it("is deterministic, and permuting lines or JSON keys changes nothing", () => {
    fc.assert(
      fc.property(policyArb, orderArb, fc.integer(), (policy_json, order_json, seed) => {
        const first = tryAllocate(policy_json, order_json);
        const again = tryAllocate(policy_json, order_json);
        let state = seed;
        const random = () => {
          state = (state * 1103515245 + 12345) & 0x7fffffff;
          return state / 0x7fffffff;
        };
        const lines = [...order_json.lines].sort(() => random() - 0.5);
        const permuted = tryAllocate(
          shuffleKeys(policy_json, random),
          shuffleKeys({ ...order_json, lines }, random),
        );
        const text = (result: Allocation | string) =>
          typeof result === "string" ? result : JSON.stringify(allocationToJson(result));
        expect(text(again)).toBe(text(first));
        expect(text(permuted)).toBe(text(first));
      }),
      runs,
    );
  });

  it("never reverses more than a leg holds, and a refund of everything reverses exactly everything", () => {
    fc.assert(
      fc.property(
        policyArb,
        orderArb,
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (policy_json, order_json, parts, by_lines) => {
          const allocation = tryAllocate(policy_json, order_json);
          if (typeof allocation === "string") return;
          const policy = parsePolicy(policy_json);
          const order = parseOrder(order_json);
          const refunds: Refund[] = by_lines
            ? order.lines.map((l, index) =>
                parseRefund({ refund_id: `L${index}`, lines: [{ line_id: l.line_id, qty: Number(l.qty) }] }),
              )
            : amountRefunds(order.paid_minor, parts);
          if (by_lines && order.shipping_minor > 0n) {
            refunds.push(
              parseRefund({ refund_id: "S", lines: [], shipping_minor: Number(order.shipping_minor) }),
            );
          }
          const reversed = new Map<string, bigint>();
          let refunded = 0n;
          refunds.forEach((refund, index) => {
            const reversal = reverse(policy, order, allocation, refunds.slice(0, index), refund);
            expect(reversal.legs.reduce((sum, leg) => sum + leg.amount_minor, 0n)).toBe(
              reversal.refund_minor,
            );
            refunded += reversal.refund_minor;
            for (const leg of reversal.legs) {
              expect(leg.amount_minor > 0n).toBe(true);
              reversed.set(legKey(leg), (reversed.get(legKey(leg)) ?? 0n) + leg.amount_minor);
            }
            for (const leg of allocation.legs)
              expect((reversed.get(legKey(leg)) ?? 0n) <= leg.amount_minor).toBe(true);
          });
          expect(refunded).toBe(order.paid_minor);
          const fee_kept =
            order.psp !== undefined &&
            !(
              order.psp.provider === "wechat" &&
              policy_json.rules.some(
                (r) =>
                  r.kind === "psp_fee" &&
                  (r as { providers: { wechat: { fee_refunded: boolean } } }).providers.wechat.fee_refunded,
              )
            );
          for (const leg of allocation.legs) {
            const expected = leg.role === "psp" && fee_kept ? 0n : leg.amount_minor;
            expect(reversed.get(legKey(leg)) ?? 0n).toBe(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Splits `paid` into refunds by amount, in the given proportions, the last one taking what is left. */
function amountRefunds(paid_minor: bigint, parts: number[]): Refund[] {
  const total = parts.reduce((a, b) => a + b, 0);
  let left = paid_minor;
  return parts
    .map((part, index) => {
      const amount = index === parts.length - 1 ? left : (paid_minor * BigInt(part)) / BigInt(total);
      left -= amount;
      return { refund_id: `A${index}`, amount_minor: amount };
    })
    .filter((refund) => refund.amount_minor! > 0n);
}
