// Builders shared by the split engine's tests: small policies and orders in the
// JSON shape the engine accepts, so each test states only what it is about.
import { parseOrder } from "./order.ts";
import { parsePolicy } from "./policy.ts";

export const test_hash = "0".repeat(64);

export function policyJson(rules: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    policy_id: "test",
    version: 1,
    currency: "CNY",
    base: "line_net",
    parties: { platform: "platform", tax_authority: "tax", logistics: "logi" },
    rules,
    ...extra,
  };
}

export function orderJson(lines: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  let goods = 0;
  for (const line of lines as { qty: number; unit_price_minor: number; merchant_discount_minor?: number }[]) {
    goods += line.qty * line.unit_price_minor - (line.merchant_discount_minor ?? 0);
  }
  let coupons = 0;
  for (const coupon of (extra.coupons ?? []) as { amount_minor: number }[]) coupons += coupon.amount_minor;
  const shipping = (extra.shipping_minor as number | undefined) ?? 0;
  return {
    id: "O-1",
    currency: "CNY",
    paid_at: "2026-11-25T10:00:00Z",
    merchant_id: "m-1",
    lines,
    paid_minor: goods - coupons + shipping,
    ...extra,
  };
}

export function line(line_id: string, unit_price_minor: number, more: Record<string, unknown> = {}) {
  return { line_id, sku: `SKU-${line_id}`, category: "general", qty: 1, unit_price_minor, ...more };
}

export const policyOf = (rules: unknown[], extra?: Record<string, unknown>) =>
  parsePolicy(policyJson(rules, extra));
export const orderOf = (lines: unknown[], extra?: Record<string, unknown>) =>
  parseOrder(orderJson(lines, extra));
