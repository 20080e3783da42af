import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { formatDecimal } from "../money.ts";
import {
  addCommissionClaims,
  addFeeClaim,
  addReferralClaims,
  addShippingClaim,
  addSupplierClaims,
  lineFacts,
} from "./claims.ts";
import { type ExactLeg, ExactLegs, formatExact, formatFraction } from "./exact.ts";
import type { Order } from "./order.ts";
import { type Policy, pspTerms } from "./policy.ts";
import { compareLegs } from "./reverse.ts";
import { bp_denominator } from "./split-limits.ts";
import { isSubsidyLeg, subsidy_flag, subsidy_rule_id } from "./subsidy.ts";
import type { AllocateContext, Allocation, Leg, Role } from "./types.ts";

const hash_pattern = /^[0-9a-f]{64}$/;

/**
 * Splits what the buyer paid between the parties, exactly. Pure and
 * deterministic: the same policy, order and context give the same legs, in the
 * same order, whatever the order of the lines or of the JSON keys.
 */
export function allocate(policy: Policy, order: Order, context: AllocateContext): Allocation {
  assert(hash_pattern.test(context.policy_hash), "context.policy_hash is a hex SHA-256");
  if (order.currency !== policy.currency) {
    throw new DomainError(
      "order_currency_mismatch",
      `currency ${order.currency} differs from the policy's currency ${policy.currency}`,
      "currency",
    );
  }
  const explanation: string[] = [];
  const legs = new ExactLegs(bp_denominator);
  const facts = lineFacts(policy, order);
  explainCoupons(order, facts, explanation);
  addSupplierClaims(legs, policy, facts, order.currency);
  addCommissionClaims(legs, policy, order, facts, context.merchant_gmv_30d_minor);
  const flags = new Set<string>();
  addReferralClaims(legs, policy, order, facts, explanation, new Set(context.unknown_referrers ?? []), flags);
  addShippingClaim(legs, policy, order, explanation);
  addFeeClaim(legs, policy, order);
  const subsidy_minor = applyPlatformDebits(legs, policy, order, explanation);
  // What the positive legs share: what the buyer paid plus what the platform funds.
  const pool_minor = order.paid_minor + subsidy_minor;
  if (subsidy_minor > 0n) flags.add(subsidy_flag);
  addRemainder(legs, policy, order, pool_minor, explanation, flags);
  applyReceiversFee(legs, policy, order, pool_minor, explanation);
  applyTax(legs, policy, order);
  const { legs: positive, units_left, rounded_up } = legs.round(pool_minor);
  const rounded = withSubsidy(positive, policy, order, subsidy_minor);
  if (units_left > 0n) {
    explanation.push(
      `Rounding: ${units_left} leftover minor unit(s) went, one each, to the legs with the largest fractional ` +
        `remainders (ties by rule order, then party id): ${rounded_up.map(legName).join(", ")}.`,
    );
  }
  checkLegs(rounded, order.paid_minor);
  checkCap(rounded, policy, order, explanation, flags);
  return {
    order_id: order.id,
    currency: order.currency,
    paid_minor: order.paid_minor,
    policy_hash: context.policy_hash,
    legs: rounded,
    explanation,
    flags: [...flags].sort(),
  };
}

/** How an explanation names a leg: party, rule and line ("tax-cn tax line 2"). */
function legName(leg: Leg): string {
  return `${leg.party_id} ${leg.rule_id}${leg.line_id === undefined ? "" : ` line ${leg.line_id}`}`;
}

function explainCoupons(order: Order, facts: ReturnType<typeof lineFacts>, explanation: string[]) {
  if (order.coupons.length === 0) return;
  const shares = facts.map(
    (fact) => `line ${fact.line.line_id} ${formatDecimal(fact.coupon_minor, order.currency)}`,
  );
  explanation.push(`Coupons are spread over the lines pro rata to their net: ${shares.join(", ")}.`);
}

/**
 * Platform-funded coupons (and the fee, when the platform bears it) come out
 * of the platform's commission; when they exceed it, the platform funds them
 * from its own account instead (subsidy.ts). Returns the subsidy, 0 when none.
 */
function applyPlatformDebits(legs: ExactLegs, policy: Policy, order: Order, explanation: string[]): bigint {
  let debit_minor = 0n;
  for (const coupon of order.coupons) if (coupon.funded_by === "platform") debit_minor += coupon.amount_minor;
  const fee_minor = policy.psp_fee.bearer === "platform" ? (order.psp?.fee_minor ?? 0n) : 0n;
  debit_minor += fee_minor;
  if (debit_minor === 0n) return 0n;
  const isPlatform = (leg: ExactLeg) => leg.role === "platform";
  const commission = legs.total(isPlatform);
  const debit = debit_minor * legs.denominator;
  const debit_words = fee_minor > 0n ? "platform-funded coupons and the PSP fee" : "platform-funded coupons";
  const amount = formatDecimal(debit_minor, order.currency);
  if (commission >= debit) {
    legs.scale(isPlatform, commission - debit, commission);
    const factor = formatFraction(commission - debit, commission);
    for (const leg of legs.legs)
      if (isPlatform(leg)) leg.note += `, less its pro rata part of ${debit_words} (× ${factor})`;
    explanation.push(
      `The platform pays ${amount} of ${debit_words} out of its commission, so the merchant is whole.`,
    );
    return 0n;
  }
  const net = formatExact(commission - debit, legs.denominator, order.currency);
  explanation.push(
    `The ${debit_words} (${amount}) exceed the platform's commission ` +
      `(${formatExact(commission, legs.denominator, order.currency)}), so the platform funds all ${amount} ` +
      `from its own account in a ${subsidy_rule_id} leg of −${amount} booked with this order; ` +
      `its commission legs stay as computed, so its net on the order is ${net}, and every other party ` +
      `receives what it would if the buyer had paid ${amount} more.`,
  );
  return debit_minor;
}

/** Adds the platform's negative subsidy leg, in rule order right after the commission. */
function withSubsidy(legs: Leg[], policy: Policy, order: Order, subsidy_minor: bigint): Leg[] {
  if (subsidy_minor === 0n) return legs;
  legs.push({
    party_id: policy.parties.platform,
    role: "platform",
    amount_minor: -subsidy_minor,
    rule_id: subsidy_rule_id,
    basis_minor: subsidy_minor,
    note: `platform subsidy: the platform funds ${formatDecimal(subsidy_minor, order.currency)} of platform-funded coupons${policy.psp_fee.bearer === "platform" && (order.psp?.fee_minor ?? 0n) > 0n ? " and the PSP fee" : ""} from its own account`,
  });
  return legs.sort((a, b) => compareLegs(policy, a, b));
}

/** The merchant takes what is left; a negative remainder is taken from the policy's absorbers. */
function addRemainder(
  legs: ExactLegs,
  policy: Policy,
  order: Order,
  pool_minor: bigint,
  explanation: string[],
  flags: Set<string>,
) {
  const rule = policy.remainder;
  let remainder = pool_minor * legs.denominator - legs.total();
  if (remainder < 0n) {
    const deficit = formatExact(-remainder, legs.denominator, order.currency);
    for (const role of rule.absorbed_by) {
      const isRole = (leg: ExactLeg) => leg.role === role;
      const held = legs.total(isRole);
      // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints
      const take = held < -remainder ? held : -remainder;
      if (take === 0n) continue;
      const taken = formatExact(take, legs.denominator, order.currency);
      legs.scale(isRole, held - take, held);
      const factor = formatFraction(held - take, held);
      for (const leg of legs.legs)
        if (isRole(leg)) leg.note += `, reduced to keep the merchant from going negative (× ${factor})`;
      remainder = pool_minor * legs.denominator - legs.total();
      explanation.push(
        `The merchant's share would have been −${deficit}; the ${role} absorbs ` + `${taken} of it.`,
      );
      if (remainder >= 0n) break;
    }
    if (remainder < 0n) {
      throw new DomainError(
        "split_merchant_negative",
        `the merchant's share would be −${deficit} and the absorbers (${rule.absorbed_by.join(", ")}) ` +
          `cannot cover ${formatExact(-remainder, legs.denominator, order.currency)} of it`,
        "policy.remainder.absorbed_by",
      );
    }
    flags.add("merchant_negative_absorbed");
    if (remainder === 0n) explanation.push("The merchant receives nothing from this order.");
  }
  assert(remainder >= 0n, "the merchant's remainder is not negative");
  const shipping =
    order.shipping_minor > 0n && policy.shipping?.to !== "logistics" ? ", shipping included" : "";
  legs.add(
    {
      party_id: order.merchant_id,
      role: "merchant",
      rule_id: rule.id,
      rule_order: rule.order,
      basis_minor: order.paid_minor,
      note:
        pool_minor === order.paid_minor
          ? `remainder of ${formatDecimal(order.paid_minor, order.currency)} paid after every other leg${shipping}`
          : `remainder of ${formatDecimal(pool_minor, order.currency)} (${formatDecimal(order.paid_minor, order.currency)} paid ` +
            `+ ${formatDecimal(pool_minor - order.paid_minor, order.currency)} platform subsidy) after every other leg${shipping}`,
    },
    remainder,
  );
}

/** When the receivers bear the PSP fee, every receiver's leg shrinks by fee / paid. */
function applyReceiversFee(
  legs: ExactLegs,
  policy: Policy,
  order: Order,
  pool_minor: bigint,
  explanation: string[],
) {
  const fee_minor = order.psp?.fee_minor ?? 0n;
  if (policy.psp_fee.bearer !== "receivers" || fee_minor === 0n) return;
  const psp = pspTerms(policy, order.psp!.provider);
  legs.scale(() => true, pool_minor - fee_minor, pool_minor);
  // The factor as paid minus fee over paid, unreduced, so a reader sees where it comes from.
  const factor = `${pool_minor - fee_minor}/${pool_minor}`;
  for (const leg of legs.legs) leg.note += `, less its pro rata part of the PSP fee (× ${factor})`;
  legs.add(
    {
      party_id: psp.party_id,
      role: "psp",
      rule_id: policy.psp_fee.id,
      rule_order: policy.psp_fee.order,
      basis_minor: order.paid_minor,
      note: `${order.psp!.provider} fee, borne by every receiver pro rata`,
    },
    fee_minor * legs.denominator,
  );
  explanation.push(
    `The PSP fee ${formatDecimal(fee_minor, order.currency)} is borne by every receiver in proportion to its share: ` +
      `each leg is multiplied by ${pool_minor - fee_minor}/${pool_minor} (what is left after the fee over what is shared).`,
  );
}

/** Tax is withheld from each leg of the taxed role and paid to the tax authority, one tax leg per line. */
function applyTax(legs: ExactLegs, policy: Policy, order: Order) {
  const rule = policy.tax;
  if (!rule || rule.bp === 0) return;
  const isTaxed = (leg: ExactLeg) => leg.role === rule.role;
  const by_line = new Map<string | undefined, bigint>();
  for (const leg of legs.legs) {
    if (isTaxed(leg)) by_line.set(leg.line_id, (by_line.get(leg.line_id) ?? 0n) + leg.numerator);
  }
  const taxed_bp = BigInt(rule.bp);
  legs.scale(isTaxed, bp_denominator - taxed_bp, bp_denominator);
  for (const leg of legs.legs) if (isTaxed(leg)) leg.note += `, less ${rule.bp} bp tax withheld`;
  const denominator_before = legs.denominator / bp_denominator;
  for (const [line_id, taxed] of by_line) {
    if (taxed === 0n) continue;
    legs.add(
      {
        party_id: policy.parties.tax_authority!,
        role: "tax",
        rule_id: rule.id,
        rule_order: rule.order,
        ...(line_id === undefined ? {} : { line_id }),
        basis_minor: roundHalfUp(taxed, denominator_before),
        rate_bp: rule.bp,
        note: `tax ${rule.bp} bp withheld from the ${rule.role}'s share of exactly ${formatExact(taxed, denominator_before, order.currency)}`,
      },
      taxed * taxed_bp,
    );
  }
}

function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

function checkLegs(legs: readonly Leg[], paid_minor: bigint) {
  let sum = 0n;
  for (const leg of legs) {
    if (isSubsidyLeg(leg)) assert(leg.amount_minor < 0n, "the subsidy leg is negative");
    else assert(leg.amount_minor > 0n, "every leg but the subsidy is positive");
    sum += leg.amount_minor;
  }
  assert(sum === paid_minor, "the legs sum exactly to paid_minor");
  const keys = new Set(
    legs.map((leg) => `${leg.rule_id}\u0000${leg.role}\u0000${leg.party_id}\u0000${leg.line_id ?? ""}`),
  );
  assert(keys.size === legs.length, "each leg is unique by rule, role, party and line");
}

function checkCap(
  legs: readonly Leg[],
  policy: Policy,
  order: Order,
  explanation: string[],
  flags: Set<string>,
) {
  const cap = policy.cap;
  const capped = (role: Role) => role !== "merchant" && !cap.exempt_roles.has(role);
  // The platform's net counts, never below zero: a subsidised order shares no
  // more of the buyer's money with the platform than one whose commission is 0.
  let shared_minor = 0n;
  let platform_minor = 0n;
  for (const leg of legs) {
    if (!capped(leg.role)) continue;
    if (leg.role === "platform") platform_minor += leg.amount_minor;
    else shared_minor += leg.amount_minor;
  }
  if (platform_minor > 0n) shared_minor += platform_minor;
  const cap_minor = (order.paid_minor * BigInt(cap.bp)) / bp_denominator;
  if (shared_minor <= cap_minor) return;
  const message =
    `the non-merchant legs total ${formatDecimal(shared_minor, order.currency)}, above the cap of ${cap.bp} bp ` +
    `of paid (${formatDecimal(cap_minor, order.currency)})`;
  if (cap.mode === "strict") throw new DomainError("split_cap_exceeded", message, `policy.rules.${cap.id}`);
  flags.add("cap_exceeded");
  explanation.push(`Audit flag: ${message}.`);
}
