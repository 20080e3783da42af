import { assert } from "../assert.ts";
import { DomainError } from "../errors.ts";
import { formatDecimal } from "../money.ts";
import type { Order } from "./order.ts";
import { type Policy, pspTerms } from "./policy.ts";
import { type Refund, refundAmount } from "./refund.ts";
import { compareLineIds, compareStrings, splitProRata } from "./rounding.ts";
import { subsidy_rule_id } from "./subsidy.ts";
import type { Allocation, Leg, Reversal, Role } from "./types.ts";

/**
 * The legs that undo a refund. Each refund takes, from every original leg,
 * the same fraction of what that leg still holds: refund / (paid − refunded so
 * far), rounded with largest remainder in the original legs' order. So the
 * first refund scales the original legs exactly, cumulative reversals never
 * exceed a leg, and the last refund reverses exactly what is left.
 *
 * When the policy says the provider keeps its fee on refunds, the fee's part is
 * not taken back from the PSP; the fee bearer funds it instead, in separate legs
 * under the fee rule.
 */
export function reverse(
  policy: Policy,
  order: Order,
  original_allocation: Allocation,
  previous_refunds: readonly Refund[],
  refund: Refund,
): Reversal {
  checkOriginal(order, original_allocation);
  const held = original_allocation.legs.map((leg) => leg.amount_minor);
  let refunded_minor = 0n;
  for (let index = 0; index < previous_refunds.length; index += 1) {
    const amount_minor = refundAmount(order, previous_refunds.slice(0, index), previous_refunds[index]!);
    const taken = takeShares(held, order.paid_minor - refunded_minor, amount_minor);
    taken.forEach((value, leg_index) => {
      held[leg_index] = held[leg_index]! - value;
    });
    refunded_minor += amount_minor;
  }
  const refund_minor = refundAmount(order, previous_refunds, refund);
  const remaining_minor = order.paid_minor - refunded_minor;
  const taken = takeShares(held, remaining_minor, refund_minor);
  const explanation = [
    `Refund ${refund.refund_id} gives back ${formatDecimal(refund_minor, order.currency)} of the ` +
      `${formatDecimal(remaining_minor, order.currency)} not yet refunded; each leg gives back the same fraction of what it still holds.`,
  ];
  const legs: Leg[] = [];
  original_allocation.legs.forEach((leg, index) => {
    const amount_minor = taken[index]!;
    if (amount_minor === 0n) return;
    legs.push({
      party_id: leg.party_id,
      role: leg.role,
      amount_minor,
      rule_id: leg.rule_id,
      ...(leg.line_id === undefined ? {} : { line_id: leg.line_id }),
      basis_minor: held[index]! < 0n ? -held[index]! : held[index]!,
      note: `refund ${refund.refund_id}: ${formatDecimal(refund_minor, order.currency)}/${formatDecimal(remaining_minor, order.currency)} of the ${formatDecimal(held[index]!, order.currency)} this leg still held`,
    });
  });
  const result = retainFee(policy, order, original_allocation, held, legs, explanation, {
    refund_minor,
    remaining_minor,
  });
  let sum = 0n;
  for (const leg of result) sum += leg.amount_minor;
  assert(sum === refund_minor, "reversal legs sum exactly to the refund");
  return {
    refund_id: refund.refund_id,
    order_id: order.id,
    currency: order.currency,
    refund_minor,
    policy_hash: original_allocation.policy_hash,
    legs: result.sort((a, b) => compareLegs(policy, a, b)),
    explanation,
  };
}

/**
 * Each share's part of `amount`, pro rata to what it holds out of `remaining`
 * (Σ held == remaining). A negative share (the platform's subsidy) gives back
 * its part rounded toward zero; the positive shares then take the refund plus
 * what the subsidy gave back, pro rata, with largest remainder. So the last
 * refund returns every share exactly, the subsidy included.
 */
function takeShares(held: readonly bigint[], remaining_minor: bigint, amount_minor: bigint): bigint[] {
  let held_sum = 0n;
  for (const value of held) held_sum += value;
  assert(held_sum === remaining_minor, "the legs still hold exactly what is not yet refunded");
  assert(amount_minor <= remaining_minor, "a refund never exceeds what is left");
  if (amount_minor === 0n) return held.map(() => 0n);
  const taken = held.map((value) => (value < 0n ? -((-value * amount_minor) / remaining_minor) : 0n));
  let positive_minor = amount_minor;
  for (const value of taken) positive_minor -= value;
  const positive = held.map((value) => (value > 0n ? value : 0n));
  let positive_held = 0n;
  for (const value of positive) positive_held += value;
  const shares = splitProRata(positive_minor, positive);
  shares.forEach((value, index) => {
    if (held[index]! > 0n) taken[index] = value;
  });
  taken.forEach((value, index) => {
    const own = held[index]!;
    if (own >= 0n) assert(value >= 0n && value <= own, "a reversal never exceeds what the leg holds");
    else assert(value <= 0n && value >= own, "a subsidy's reversal never exceeds what it still funds");
  });
  assert(positive_minor <= positive_held, "the positive legs can cover the refund");
  return taken;
}

/** Moves the PSP fee's part of the reversal onto the fee bearer when the provider keeps its fee. */
function retainFee(
  policy: Policy,
  order: Order,
  original: Allocation,
  held: readonly bigint[],
  legs: Leg[],
  explanation: string[],
  refund: { refund_minor: bigint; remaining_minor: bigint },
): Leg[] {
  if (order.psp === undefined) return legs;
  const terms = pspTerms(policy, order.psp.provider);
  if (terms.fee_refunded) return legs;
  const fee_leg = legs.find((leg) => leg.role === "psp" && leg.rule_id === policy.psp_fee.id);
  if (!fee_leg) return legs;
  const rest = legs.filter((leg) => leg !== fee_leg);
  const kept_minor = fee_leg.amount_minor;
  const payers = feePayers(policy, order, original, held);
  const shares = splitProRata(
    kept_minor,
    payers.map((payer) => payer.weight),
  );
  let payers_minor = 0n;
  for (const payer of payers) payers_minor += payer.weight;
  const money = (amount_minor: bigint) => formatDecimal(amount_minor, order.currency);
  payers.forEach((payer, index) => {
    const amount_minor = shares[index]!;
    if (amount_minor === 0n) return;
    rest.push({
      party_id: payer.party_id,
      role: payer.role,
      amount_minor,
      rule_id: policy.psp_fee.id,
      basis_minor: kept_minor,
      note:
        `${order.psp!.provider} keeps its fee on refunds; this party still holds ${money(payer.weight)} of the ` +
        `${money(payers_minor)} the fee's payers hold, so it funds ${payer.weight}/${payers_minor} of ${money(kept_minor)}`,
    });
  });
  // The still-held rule (docs/splits.md): the fee leg's part is taken from what
  // it still holds, its original amount less what earlier refunds took from it.
  const fee_index = original.legs.findIndex((leg) => leg.role === "psp" && leg.rule_id === policy.psp_fee.id);
  assert(fee_index >= 0, "the reversed fee leg is one of the original legs");
  const fee_original_minor = original.legs[fee_index]!.amount_minor;
  const fee_held_minor = held[fee_index]!;
  explanation.push(
    `${order.psp.provider} keeps its fee on refunds. The fee leg still holds ${money(fee_held_minor)} ` +
      `(its ${money(fee_original_minor)} less ${money(fee_original_minor - fee_held_minor)} its payers funded on earlier refunds), ` +
      `so its part of this refund, ${money(refund.refund_minor)}/${money(refund.remaining_minor)} of ${money(fee_held_minor)} ` +
      `rounded with the other legs, is ${money(kept_minor)}; the fee bearer (${policy.psp_fee.bearer}) funds it` +
      (policy.psp_fee.bearer === "receivers"
        ? `, each receiver but the tax authority pro rata to what it still holds (${money(payers_minor)} in all).`
        : "."),
  );
  return rest;
}

interface FeePayer {
  readonly party_id: string;
  readonly role: Role;
  readonly weight: bigint;
}

function feePayers(policy: Policy, order: Order, original: Allocation, held: readonly bigint[]): FeePayer[] {
  const bearer = policy.psp_fee.bearer;
  if (bearer === "merchant") return [{ party_id: order.merchant_id, role: "merchant", weight: 1n }];
  if (bearer === "platform") return [{ party_id: policy.parties.platform, role: "platform", weight: 1n }];
  const by_party = new Map<string, FeePayer>();
  original.legs.forEach((leg, index) => {
    // The tax authority's legs were computed after the fee, so it bears none of it here either.
    if (leg.role === "psp" || leg.role === "tax") return;
    const key = `${leg.role}\u0000${leg.party_id}`;
    const weight = (by_party.get(key)?.weight ?? 0n) + held[index]!;
    by_party.set(key, { party_id: leg.party_id, role: leg.role, weight });
  });
  const payers = [...by_party.values()].filter((payer) => payer.weight > 0n);
  if (payers.length === 0) return [{ party_id: order.merchant_id, role: "merchant", weight: 1n }];
  return payers;
}

function checkOriginal(order: Order, original: Allocation): void {
  if (
    original.order_id !== order.id ||
    original.currency !== order.currency ||
    original.paid_minor !== order.paid_minor
  ) {
    throw new DomainError(
      "refund_allocation_mismatch",
      `the original allocation is for order ${original.order_id} (${original.paid_minor} ${original.currency}), not ${order.id}`,
      "order_id",
    );
  }
  let sum = 0n;
  for (const leg of original.legs) sum += leg.amount_minor;
  assert(sum === order.paid_minor, "the original allocation sums to paid_minor");
}

function ruleOrder(policy: Policy, rule_id: string): number {
  // The subsidy leg sits right after the commission it stands in for.
  if (rule_id === subsidy_rule_id) return policy.commission.order;
  for (const rule of [
    policy.commission,
    policy.supplier,
    policy.referral,
    policy.shipping,
    policy.psp_fee,
    policy.tax,
    policy.cap,
    policy.remainder,
  ]) {
    if (rule?.id === rule_id) return rule.order;
  }
  return Number.MAX_SAFE_INTEGER;
}

/** The order legs are listed in: rule order, then party id, then role, then line id. */
export function compareLegs(policy: Policy, a: Leg, b: Leg): number {
  const order = ruleOrder(policy, a.rule_id) - ruleOrder(policy, b.rule_id);
  if (order !== 0) return order;
  return (
    compareStrings(a.party_id, b.party_id) ||
    compareStrings(a.role, b.role) ||
    compareLineIds(a.line_id, b.line_id)
  );
}
