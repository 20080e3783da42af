import { describe, expect, it } from "vitest";
import { allocate } from "./allocate.ts";
import { parseRefund } from "./refund.ts";
import { reverse } from "./reverse.ts";
import { line, orderOf, policyOf, test_hash } from "./testing.ts";

describe("reverse: golden cases", () => {
  const rules = (fee_refunded: boolean) => [
    { id: "commission", kind: "commission", default_bp: 1000 },
    { id: "fee", kind: "psp_fee", bearer: "merchant", providers: { wechat: { fee_refunded } } },
  ];
  // Two lines of 3 × 1000 and 1 × 1000 (paid 4000). Commission 1000 bp: 300 and 100. Fee 30.
  // Merchant 4000 − 400 − 30 = 3570.
  const order = orderOf([line("1", 1000, { qty: 3 }), line("2", 1000)], {
    psp: { provider: "wechat", reference: "x", fee_minor: 30 },
  });

  it("scales the legs by the refunded fraction when the provider refunds its fee", () => {
    const policy = policyOf(rules(true));
    const allocation = allocate(policy, order, { policy_hash: test_hash });
    // Refund one of line 1's three units: 3000 × 1/3 = 1000, a quarter of 4000.
    // Each leg gives back a quarter: 300 → 75, 100 → 25, fee 30 → 7.5, merchant 3570 → 892.5.
    // Floors 75 + 25 + 7 + 892 = 999; the unit goes to the fee (.5 ties the merchant's .5; the fee rule
    // comes first). The line refund takes from every leg, not only line 1's: the split is order-wide.
    const first = parseRefund({ refund_id: "R1", lines: [{ line_id: "1", qty: 1 }] });
    const reversal = reverse(policy, order, allocation, [], first);
    expect(reversal.refund_minor).toBe(1000n);
    expect(reversal.legs.map((leg) => [leg.party_id, leg.line_id ?? "-", Number(leg.amount_minor)])).toEqual([
      ["platform", "1", 75],
      ["platform", "2", 25],
      ["psp:wechat", "-", 8],
      ["m-1", "-", 892],
    ]);
    // The rest (3000) reverses exactly what each leg still holds: 225, 75, 22, 2678.
    const rest = reverse(
      policy,
      order,
      allocation,
      [first],
      parseRefund({ refund_id: "R2", amount_minor: 3000 }),
    );
    expect(rest.legs.map((leg) => Number(leg.amount_minor))).toEqual([225, 75, 22, 2678]);
  });

  it("charges the fee's share to the fee bearer when the provider keeps its fee", () => {
    const policy = policyOf(rules(false));
    const allocation = allocate(policy, order, { policy_hash: test_hash });
    // Refunding everything: the PSP keeps 30, so the merchant gives back its 3570 and funds 30 more.
    const reversal = reverse(
      policy,
      order,
      allocation,
      [],
      parseRefund({ refund_id: "R1", amount_minor: 4000 }),
    );
    expect(reversal.legs.map((leg) => [leg.rule_id, leg.party_id, Number(leg.amount_minor)])).toEqual([
      ["commission", "platform", 300],
      ["commission", "platform", 100],
      ["fee", "m-1", 30],
      ["remainder", "m-1", 3570],
    ]);
  });
});
