import { assert } from "../assert.ts";

// How a split's net posting on a party's account reads on its statement, by
// kind. The journal books each party's net share in one posting; the legs say
// what it is made of. For the order's merchant the breakdown is gross to net:
// the buyer's payment (sales), the platform's subsidy it receives (coupons and
// subsidies), minus what every other party takes (commission, supplier cost,
// referral fees, PSP fees, tax, shipping). Any other party sees its own legs by
// kind. Either way the pieces sum to the party's legs, which is its posting.

export const split_line_kinds = [
  "sales",
  "commission",
  "coupons_subsidies",
  "supplier_cost",
  "referral_fees",
  "psp_fees",
  "tax",
  "shipping",
] as const;
export type SplitLineKind = (typeof split_line_kinds)[number];

/** The prefix of an aggregate's kind that holds one piece of a split: `split:commission`. */
export const split_piece_prefix = "split:";

const kind_by_role: Readonly<Record<string, SplitLineKind>> = {
  merchant: "sales",
  platform: "commission",
  supplier: "supplier_cost",
  referrer: "referral_fees",
  psp: "psp_fees",
  tax: "tax",
  logistics: "shipping",
};

export interface SplitLeg {
  party_id: string;
  role: string;
  rule_id: string;
  amount_minor: bigint;
}

export interface SplitOrder {
  merchant_id: string;
  paid_minor: bigint;
  /** The platform's subsidy leg's rule id (negative leg), if any leg carries it. */
  subsidy_rule_id: string;
  legs: readonly SplitLeg[];
}

function isSubsidy(order: SplitOrder, leg: SplitLeg): boolean {
  return leg.rule_id === order.subsidy_rule_id && leg.role === "platform";
}

/** The line kind of one leg, seen by the party that receives it. */
export function splitLineKindOf(role: string): SplitLineKind {
  return kind_by_role[role] ?? "sales";
}

/**
 * Pure: the pieces of `party_id`'s net share of one split, by kind; they sum
 * to the party's positive legs (what the split credited to its held account).
 * Pieces of zero are left out.
 */
export function splitPieces(order: SplitOrder, party_id: string): Map<SplitLineKind, bigint> {
  const pieces = new Map<SplitLineKind, bigint>();
  const add = (kind: SplitLineKind, amount_minor: bigint) => {
    if (amount_minor === 0n) return;
    const sum = (pieces.get(kind) ?? 0n) + amount_minor;
    if (sum === 0n) pieces.delete(kind);
    else pieces.set(kind, sum);
  };
  let own_minor = 0n;
  let subsidy_minor = 0n;
  for (const leg of order.legs) {
    if (isSubsidy(order, leg)) {
      assert(leg.amount_minor <= 0n, "a subsidy leg is never positive");
      subsidy_minor -= leg.amount_minor;
    } else if (leg.party_id === party_id) own_minor += leg.amount_minor;
  }
  const is_merchant = party_id === order.merchant_id;
  if (is_merchant) {
    add("sales", order.paid_minor);
    add("coupons_subsidies", subsidy_minor);
    for (const leg of order.legs)
      if (leg.party_id !== party_id && !isSubsidy(order, leg))
        add(splitLineKindOf(leg.role), -leg.amount_minor);
  } else {
    for (const leg of order.legs)
      if (leg.party_id === party_id && !isSubsidy(order, leg))
        add(splitLineKindOf(leg.role), leg.amount_minor);
  }
  let sum = 0n;
  for (const amount_minor of pieces.values()) sum += amount_minor;
  assert(sum === own_minor, `the pieces of ${party_id}'s share sum to ${sum}, not its legs' ${own_minor}`);
  return pieces;
}

/** The aggregate kind of a piece, and back. */
export function splitPieceKind(kind: SplitLineKind): string {
  return `${split_piece_prefix}${kind}`;
}
