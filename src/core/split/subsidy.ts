import { assert } from "../assert.ts";

// The platform's coupon subsidy (docs/splits.md, "When platform coupons exceed
// the commission"). When platform-funded coupons (and the PSP fee, when the
// platform bears it) exceed the platform's commission on an order, the
// platform funds the whole debit from its own account in the order's own
// journal transaction: its commission legs stay as the policy computes them,
// and one leg of the platform with a negative amount, under this rule id,
// pays the debit into the split. Every other party then receives exactly what
// it would if the buyer had paid the coupon. The flag marks such orders.

export const subsidy_rule_id = "platform_subsidy";
export const subsidy_flag = "platform_subsidy";

export function isSubsidyLeg(leg: { readonly rule_id: string; readonly role: string }): boolean {
  return leg.rule_id === subsidy_rule_id && leg.role === "platform";
}

/** The subsidy an allocation's legs carry, as a positive amount (0 when none). */
export function subsidyOf(
  legs: readonly { readonly rule_id: string; readonly role: string; readonly amount_minor: bigint }[],
): bigint {
  let subsidy_minor = 0n;
  for (const leg of legs) {
    if (!isSubsidyLeg(leg)) continue;
    assert(leg.amount_minor < 0n, "a subsidy leg is negative");
    subsidy_minor -= leg.amount_minor;
  }
  return subsidy_minor;
}
