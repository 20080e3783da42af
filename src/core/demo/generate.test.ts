import { describe, expect, it } from "vitest";
import {
  type Allocation,
  allocate,
  loadPolicy,
  parseOrder,
  parseRefund,
  type Refund,
  reverse,
} from "../split/index.ts";
import { type DemoOrder, generateMarketplace, generateOrders } from "./index.ts";

const start_ms = Date.parse("2026-09-26T00:00:00Z");
const end_ms = Date.parse("2026-11-25T00:00:00Z");

function orders(seed: number, count: number): DemoOrder[] {
  return [...generateOrders(generateMarketplace({ seed }), { seed, count, start_ms, end_ms })];
}

describe("demo marketplace generator", () => {
  it("builds a marketplace whose policy parses and whose parties cover every id the policy names", () => {
    const market = generateMarketplace({ seed: 7 });
    const { policy } = loadPolicy(market.policy.body);
    const ids = new Set(market.parties.map((party) => party.id));
    expect(market.merchants).toHaveLength(20);
    expect(ids.has(policy.parties.platform)).toBe(true);
    expect(ids.has(policy.parties.tax_authority!)).toBe(true);
    expect(ids.has(policy.parties.logistics!)).toBe(true);
    for (const terms of policy.psp_fee.providers.values()) expect(ids.has(terms.party_id)).toBe(true);
    // Parents come first, and some referrers have a parent (two levels).
    const seen = new Set<string>();
    for (const party of market.parties) {
      if (party.parent_id !== undefined) expect(seen.has(party.parent_id)).toBe(true);
      seen.add(party.id);
    }
    expect(market.parties.some((party) => party.kind === "referrer" && party.parent_id)).toBe(true);
    expect(market.merchants[0]!.weight).toBeGreaterThan(market.merchants[19]!.weight * 10);
  });

  it("generates 5,000 orders that parse, allocate exactly, and whose refunds reverse", () => {
    const market = generateMarketplace({ seed: 42 });
    const { policy, policy_hash } = loadPolicy(market.policy.body);
    const party_ids = new Set(market.parties.map((party) => party.id));
    const generated = [...generateOrders(market, { seed: 42, count: 5_000, start_ms, end_ms })];
    let refunded = 0;
    let chargebacks = 0;
    let completed = 0;
    let with_referrers = 0;
    let with_coupons = 0;
    for (const demo of generated) {
      const order = parseOrder(demo.body);
      expect(Date.parse(order.paid_at)).toBeGreaterThanOrEqual(start_ms);
      expect(Date.parse(order.paid_at)).toBeLessThanOrEqual(end_ms);
      const allocation: Allocation = allocate(policy, order, { policy_hash });
      let total = 0n;
      for (const leg of allocation.legs) {
        expect(party_ids.has(leg.party_id), leg.party_id).toBe(true);
        total += leg.amount_minor;
      }
      expect(total).toBe(order.paid_minor);
      const previous: Refund[] = [];
      for (const event of demo.refunds) {
        const refund = parseRefund(event.body);
        const reversal = reverse(policy, order, allocation, previous, refund);
        expect(reversal.legs.reduce((sum, leg) => sum + leg.amount_minor, 0n)).toBe(reversal.refund_minor);
        previous.push(refund);
        if (event.kind === "chargeback") chargebacks++;
      }
      if (demo.refunds.length > 0) refunded++;
      if (demo.complete_after_ms !== null) completed++;
      if (order.referrers.length > 0) with_referrers++;
      if (order.coupons.length > 0) with_coupons++;
    }
    expect(refunded / generated.length).toBeGreaterThan(0.07);
    expect(refunded / generated.length).toBeLessThan(0.13);
    expect(chargebacks).toBeGreaterThan(10);
    expect(completed / generated.length).toBeGreaterThan(0.8);
    expect(with_referrers / generated.length).toBeGreaterThan(0.15);
    expect(with_coupons / generated.length).toBeGreaterThan(0.15);
  });

  it("gives identical output for the same seed and different output for another", () => {
    expect(JSON.stringify(orders(3, 200))).toBe(JSON.stringify(orders(3, 200)));
    expect(JSON.stringify(generateMarketplace({ seed: 3 }))).toBe(
      JSON.stringify(generateMarketplace({ seed: 3 })),
    );
    expect(JSON.stringify(orders(4, 200))).not.toBe(JSON.stringify(orders(3, 200)));
  });

  it("concentrates orders on the top merchants (Zipf-like popularity)", () => {
    const counts = new Map<string, number>();
    for (const demo of orders(11, 5_000)) {
      const merchant_id = (demo.body as { merchant_id: string }).merchant_id;
      counts.set(merchant_id, (counts.get(merchant_id) ?? 0) + 1);
    }
    expect(counts.get("m-1001")!).toBeGreaterThan(4 * (counts.get("m-1010") ?? 0));
    expect(counts.size).toBeGreaterThan(15);
  });

  // Speed is the bench's business (feeds are drawn inside its timed window);
  // here only what must hold on any machine: the stream is a pure function of
  // its seed, so a bench or simulation run can be replayed order for order.
  it("draws the same orders from the same seed and different ones from another", () => {
    const bodies = (seed: number) =>
      orders(seed, 2_000).map((demo) =>
        JSON.stringify(demo.body, (_, value) => (typeof value === "bigint" ? `${value}` : value)),
      );
    const first = bodies(1);
    expect(bodies(1)).toEqual(first);
    const other = bodies(2);
    expect(other).toHaveLength(first.length);
    expect(other.filter((body, index) => body === first[index]).length).toBeLessThan(first.length / 100);
  });
});
