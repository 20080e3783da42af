import { describe, expect, it } from "vitest";
import { allocate } from "./allocate.ts";
import { parseOrder } from "./order.ts";
import { parsePolicy } from "./policy.ts";
import { policyHash } from "./policy-hash.ts";
import { parseRefund, refundAmount } from "./refund.ts";
import { line, orderJson, orderOf, policyJson, policyOf, test_hash } from "./testing.ts";

// Bad input is refused with a stable code and the path of the offending field.
const rejects = (action: () => unknown, code: string, field: string) =>
  expect(action).toThrow(expect.objectContaining({ name: "DomainError", code, field }));

describe("bad input", () => {
  it("refuses a zero or negative qty, naming the line", () => {
    rejects(
      () => orderOf([line("1", 100), line("2", 100, { qty: 0 })]),
      "line_qty_not_positive",
      "lines[1].qty",
    );
    rejects(() => orderOf([line("1", 100, { qty: -2 })]), "line_qty_not_positive", "lines[0].qty");
    rejects(() => orderOf([line("1", 100, { qty: 1.5 })]), "field_not_integer", "lines[0].qty");
    rejects(() => orderOf([line("1", 100, { qty: 1_000_001 })]), "field_out_of_range", "lines[0].qty");
  });

  it("refuses an unknown currency", () => {
    rejects(
      () => parseOrder({ ...orderJson([line("1", 100)]), currency: "XYZ" }),
      "currency_invalid",
      "currency",
    );
    rejects(() => parsePolicy({ ...policyJson([]), currency: "cny" }), "currency_invalid", "currency");
  });

  it("refuses a paid_minor that does not match the lines, showing both numbers", () => {
    const json = { ...orderJson([line("1", 1000)], { shipping_minor: 100 }), paid_minor: 1000 };
    rejects(() => parseOrder(json), "order_paid_mismatch", "paid_minor");
    expect(() => parseOrder(json)).toThrow(/paid_minor is 1000 but the lines say 1100/);
  });

  it("refuses coupons larger than the goods, naming the coupon that overflows", () => {
    const coupons = [
      { code: "A", funded_by: "platform", amount_minor: 600 },
      { code: "B", funded_by: "merchant", amount_minor: 500 },
    ];
    rejects(
      () => parseOrder({ ...orderJson([line("1", 1000)]), coupons, paid_minor: 1 }),
      "coupon_exceeds_goods",
      "coupons[1].amount_minor",
    );
  });

  it("refuses a category with no rate when the policy has no default", () => {
    const policy = policyOf([{ id: "commission", kind: "commission", by_category: { books: 100 } }]);
    const order = orderOf([line("1", 100, { category: "books" }), line("2", 100, { category: "toys" })]);
    rejects(
      () => allocate(policy, order, { policy_hash: test_hash }),
      "category_unknown",
      "lines[1].category",
    );
  });

  it("refuses a refund of more than was paid, by amount or by lines", () => {
    const order = orderOf([line("1", 1000, { qty: 2 })], { shipping_minor: 100 });
    const first = parseRefund({ refund_id: "R1", amount_minor: 1500 });
    expect(refundAmount(order, [], first)).toBe(1500n);
    rejects(
      () => refundAmount(order, [first], parseRefund({ refund_id: "R2", amount_minor: 601 })),
      "refund_exceeds_paid",
      "amount_minor",
    );
    expect(() => refundAmount(order, [first], parseRefund({ refund_id: "R2", amount_minor: 601 }))).toThrow(
      /bring refunds to 21\.01, more than the 21\.00 paid/,
    );
    rejects(
      () => refundAmount(order, [first], parseRefund({ refund_id: "R2", lines: [{ line_id: "1", qty: 1 }] })),
      "refund_exceeds_paid",
      "lines",
    );
    rejects(
      () => refundAmount(order, [], parseRefund({ refund_id: "R2", lines: [{ line_id: "1", qty: 3 }] })),
      "refund_qty_exceeds",
      "lines[0].qty",
    );
    rejects(() => refundAmount(order, [first], first), "refund_id_duplicate", "refund_id");
  });

  it("refuses unknown fields, over-long ids and too many lines", () => {
    rejects(() => parseOrder({ ...orderJson([line("1", 100)]), discount: 5 }), "field_unknown", "discount");
    rejects(
      () => orderOf([line("1", 100)], { merchant_id: "m".repeat(129) }),
      "field_too_long",
      "merchant_id",
    );
    const many = Array.from({ length: 501 }, (_, index) => line(String(index), 1));
    rejects(() => orderOf(many), "field_too_long", "lines");
    rejects(
      () => policyOf([{ id: "c", kind: "commission", default_bp: 10001 }]),
      "field_out_of_range",
      "rules[0].default_bp",
    );
    rejects(() => policyOf([]), "policy_rule_missing", "rules");
  });

  it("hashes the canonical JSON, so key order does not change a policy's identity", () => {
    const json = policyJson([{ id: "commission", kind: "commission", default_bp: 500 }]);
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(json).reverse())));
    expect(policyHash(reordered)).toBe(policyHash(json));
    expect(policyHash(json)).toMatch(/^[0-9a-f]{64}$/);
    expect(policyHash({ ...json, version: 2 })).not.toBe(policyHash(json));
  });
});
