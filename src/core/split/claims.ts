import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { formatDecimal } from "../money.ts";
import type { ExactLegs } from "./exact.ts";
import type { Order, OrderLine } from "./order.ts";
import { type Policy, pspTerms } from "./policy.ts";
import { commissionRate } from "./rates.ts";
import { compareLineIds, splitProRata } from "./rounding.ts";
import { bp_denominator } from "./split-limits.ts";

// The first stage of an allocation: what each non-merchant party claims from
// the order before coupons, fees, absorption and tax adjust it. Every numerator
// here is over the starting denominator 10 000 (one basis point of a minor unit).
export interface LineFacts {
  readonly line: OrderLine;
  /** The line's index in the order as sent, for error fields. */
  readonly index: number;
  /** The line's pro rata share of all coupons, rounded with largest remainder. */
  readonly coupon_minor: bigint;
  /** What rates apply to: the line net, or the line net after coupons, per the policy. */
  readonly base_minor: bigint;
}

/** The order's lines in line-id order, each with its index as sent and its pro rata coupon share. */
export function couponShares(order: Order): { line: OrderLine; index: number; coupon_minor: bigint }[] {
  const indexed = order.lines.map((line, index) => ({ line, index }));
  indexed.sort((a, b) => compareLineIds(a.line.line_id, b.line.line_id));
  let coupons_minor = 0n;
  for (const coupon of order.coupons) coupons_minor += coupon.amount_minor;
  const shares = splitProRata(
    coupons_minor,
    indexed.map(({ line }) => line.net_minor),
  );
  return indexed.map(({ line, index }, position) => {
    const coupon_minor = shares[position]!;
    assert(coupon_minor <= line.net_minor, "a line's coupon share never exceeds the line");
    return { line, index, coupon_minor };
  });
}

/** Lines in line-id order, each with its coupon share and the base its rates apply to. */
export function lineFacts(policy: Policy, order: Order): LineFacts[] {
  return couponShares(order).map(({ line, index, coupon_minor }) => {
    const base_minor = policy.base === "line_net" ? line.net_minor : line.net_minor - coupon_minor;
    return { line, index, coupon_minor, base_minor };
  });
}

export function addSupplierClaims(
  legs: ExactLegs,
  policy: Policy,
  facts: readonly LineFacts[],
  currency: string,
) {
  for (const { line, index } of facts) {
    if (line.supplier_id === undefined) continue;
    const rule = policy.supplier;
    if (!rule) {
      throw new DomainError(
        "policy_rule_missing",
        `lines[${index}].supplier_id names a supplier but the policy has no supplier_cost rule`,
        `lines[${index}].supplier_id`,
      );
    }
    const cost_minor = line.qty * line.supplier_unit_cost_minor!;
    legs.add(
      {
        party_id: line.supplier_id,
        role: "supplier",
        rule_id: rule.id,
        rule_order: rule.order,
        line_id: line.line_id,
        basis_minor: cost_minor,
        note: `supplier cost ${line.qty} × ${formatDecimal(line.supplier_unit_cost_minor!, currency)}`,
      },
      cost_minor * bp_denominator,
    );
  }
}

export function addCommissionClaims(
  legs: ExactLegs,
  policy: Policy,
  order: Order,
  facts: readonly LineFacts[],
  gmv_30d_minor: bigint | undefined,
) {
  const rule = policy.commission;
  for (const { line, index, base_minor } of facts) {
    const rate = commissionRate(
      rule,
      order.merchant_id,
      line.category,
      gmv_30d_minor,
      `lines[${index}].category`,
    );
    let numerator = base_minor * BigInt(rate.bp);
    let note = `commission ${rate.bp} bp (${rate.source}) of ${baseWords(policy)} ${formatDecimal(base_minor, order.currency)}`;
    if (
      rule.line_min_minor !== undefined &&
      base_minor > 0n &&
      numerator < rule.line_min_minor * bp_denominator
    ) {
      numerator = rule.line_min_minor * bp_denominator;
      note += `, raised to the line minimum ${formatDecimal(rule.line_min_minor, order.currency)}`;
    }
    if (rule.line_max_minor !== undefined && numerator > rule.line_max_minor * bp_denominator) {
      numerator = rule.line_max_minor * bp_denominator;
      note += `, capped at the line maximum ${formatDecimal(rule.line_max_minor, order.currency)}`;
    }
    legs.add(
      {
        party_id: policy.parties.platform,
        role: "platform",
        rule_id: rule.id,
        rule_order: rule.order,
        line_id: line.line_id,
        basis_minor: base_minor,
        rate_bp: rate.bp,
        note,
      },
      numerator,
    );
  }
}

/** The flag on an order whose referrer was not a party when it was booked. */
export const referrer_unknown_flag = "referrer_unknown";

export function addReferralClaims(
  legs: ExactLegs,
  policy: Policy,
  order: Order,
  facts: readonly LineFacts[],
  explanation: string[],
  unknown_referrers: ReadonlySet<string>,
  flags: Set<string>,
) {
  const rule = policy.referral;
  if (order.referrers.length === 0) return;
  if (!rule) {
    explanation.push("The order names referrers but the policy has no referral rule, so none is paid.");
    return;
  }
  order.referrers.forEach((referrer, level) => {
    const bp = rule.level_bp[level as 0 | 1];
    const words = `level-${level + 1} referrer ${referrer}`;
    if (referrer === order.buyer_ref) {
      explanation.push(
        `No commission for the ${words}: the referrer is the buyer (self-referral is not paid).`,
      );
      return;
    }
    if (bp === 0) {
      explanation.push(`No commission for the ${words}: the policy's level-${level + 1} rate is 0 bp.`);
      return;
    }
    // A stale referrer id must not cost the mall the sale (issue 12): the
    // share goes to the platform, the merchant gets what it would anyway.
    const unknown = unknown_referrers.has(referrer);
    if (unknown) {
      flags.add(referrer_unknown_flag);
      explanation.push(
        `The ${words} is not a party of this marketplace, so its ${bp} bp goes to the platform ` +
          `(flag ${referrer_unknown_flag}); the merchant's share is as if the referrer were known.`,
      );
    }
    for (const { line, base_minor } of facts) {
      if (rule.level_off_categories[level as 0 | 1].has(line.category)) {
        explanation.push(
          `No ${words} commission on line ${line.line_id}: level ${level + 1} is off for ${line.category}.`,
        );
        continue;
      }
      const note = `${words}: ${bp} bp of ${baseWords(policy)} ${formatDecimal(base_minor, order.currency)}`;
      if (unknown) {
        addUnknownReferralClaim(legs, policy, rule, line.line_id, base_minor, bp, note);
        continue;
      }
      legs.add(
        {
          party_id: referrer,
          role: "referrer",
          rule_id: rule.id,
          rule_order: rule.order,
          line_id: line.line_id,
          basis_minor: base_minor,
          rate_bp: bp,
          note,
        },
        base_minor * BigInt(bp),
      );
    }
  });
}

/**
 * An unknown referrer's share on one line, as a platform leg under the referral
 * rule; when both levels are unknown, the one leg per line carries both.
 */
function addUnknownReferralClaim(
  legs: ExactLegs,
  policy: Policy,
  rule: { id: string; order: number },
  line_id: string,
  base_minor: bigint,
  bp: number,
  note: string,
) {
  const platform = policy.parties.platform;
  const numerator = base_minor * BigInt(bp);
  const existing = legs.legs.find(
    (leg) =>
      leg.party_id === platform &&
      leg.role === "platform" &&
      leg.rule_id === rule.id &&
      leg.line_id === line_id,
  );
  if (existing !== undefined) {
    existing.numerator += numerator;
    existing.note += `; and ${note}, not a party either`;
    return;
  }
  legs.add(
    {
      party_id: platform,
      role: "platform",
      rule_id: rule.id,
      rule_order: rule.order,
      line_id,
      basis_minor: base_minor,
      rate_bp: bp,
      note: `${note}, to the platform: the referrer is not a party (${referrer_unknown_flag})`,
    },
    numerator,
  );
}

export function addShippingClaim(legs: ExactLegs, policy: Policy, order: Order, explanation: string[]) {
  if (order.shipping_minor === 0n) return;
  const shipping = formatDecimal(order.shipping_minor, order.currency);
  if (policy.shipping?.to !== "logistics") {
    explanation.push(`Shipping ${shipping} stays with the merchant, inside the remainder.`);
    return;
  }
  legs.add(
    {
      party_id: policy.parties.logistics!,
      role: "logistics",
      rule_id: policy.shipping.id,
      rule_order: policy.shipping.order,
      basis_minor: order.shipping_minor,
      note: `shipping ${shipping} to the logistics party`,
    },
    order.shipping_minor * bp_denominator,
  );
}

/** The PSP fee as a claim; when the receivers bear it pro rata it is added later instead. */
export function addFeeClaim(legs: ExactLegs, policy: Policy, order: Order) {
  if (order.psp === undefined || order.psp.fee_minor === 0n || policy.psp_fee.bearer === "receivers") return;
  const rule = policy.psp_fee;
  legs.add(
    {
      party_id: pspTerms(policy, order.psp.provider).party_id,
      role: "psp",
      rule_id: rule.id,
      rule_order: rule.order,
      basis_minor: order.paid_minor,
      note: `${order.psp.provider} fee, borne by the ${rule.bearer}`,
    },
    order.psp.fee_minor * bp_denominator,
  );
}

export function baseWords(policy: Policy): string {
  return policy.base === "line_net" ? "line net" : "line net after coupons";
}
