import { assert } from "../assert.ts";
import { formatDecimal } from "../money.ts";
import { compareLineIds, compareStrings, largestRemainder } from "./rounding.ts";
import type { Leg, Role } from "./types.ts";

// Legs while they are still exact: every amount is `numerator / denominator`
// with one denominator shared by the whole set, so sums and comparisons are
// plain bigint arithmetic and rounding happens once, at the end.
export interface ExactLeg {
  readonly party_id: string;
  readonly role: Role;
  readonly rule_id: string;
  readonly rule_order: number;
  readonly line_id?: string;
  basis_minor: bigint;
  readonly rate_bp?: number;
  note: string;
  numerator: bigint;
}

export class ExactLegs {
  denominator: bigint;
  readonly legs: ExactLeg[] = [];

  constructor(denominator: bigint) {
    assert(denominator > 0n, "the denominator is positive");
    this.denominator = denominator;
  }

  /** Adds a leg worth `numerator / denominator` at the current denominator. */
  add(leg: Omit<ExactLeg, "numerator">, numerator: bigint): ExactLeg {
    assert(numerator >= 0n, "an exact leg is never negative");
    const exact: ExactLeg = {
      party_id: leg.party_id,
      role: leg.role,
      rule_id: leg.rule_id,
      rule_order: leg.rule_order,
      line_id: leg.line_id,
      basis_minor: leg.basis_minor,
      rate_bp: leg.rate_bp,
      note: leg.note,
      numerator,
    };
    this.legs.push(exact);
    return exact;
  }

  total(filter: (leg: ExactLeg) => boolean = () => true): bigint {
    let sum = 0n;
    for (const leg of this.legs) if (filter(leg)) sum += leg.numerator;
    return sum;
  }

  /**
   * Multiplies the chosen legs by keep/whole and every other leg by 1, exactly:
   * the denominator grows by `whole` and the other numerators with it.
   */
  scale(chosen: (leg: ExactLeg) => boolean, keep: bigint, whole: bigint): void {
    assert(whole > 0n, "a scale has a positive whole");
    assert(keep >= 0n && keep <= whole, "a scale never grows a leg or makes it negative");
    this.denominator *= whole;
    for (const leg of this.legs) leg.numerator *= chosen(leg) ? keep : whole;
  }

  /** Rounds every leg with largest remainder, in tie-break order, and drops zero legs. */
  round(total_minor: bigint): { legs: Leg[]; units_left: bigint } {
    this.legs.sort(compareExactLegs);
    assert(this.total() === total_minor * this.denominator, "exact legs sum to the total before rounding");
    const rounded = largestRemainder(
      this.legs.map((leg) => leg.numerator),
      this.denominator,
    );
    let floor_sum = 0n;
    for (const leg of this.legs) floor_sum += leg.numerator / this.denominator;
    const legs: Leg[] = [];
    this.legs.forEach((leg, index) => {
      const amount_minor = rounded[index]!;
      if (amount_minor === 0n) return;
      legs.push({
        party_id: leg.party_id,
        role: leg.role,
        amount_minor,
        rule_id: leg.rule_id,
        ...(leg.line_id === undefined ? {} : { line_id: leg.line_id }),
        basis_minor: leg.basis_minor,
        ...(leg.rate_bp === undefined ? {} : { rate_bp: leg.rate_bp }),
        note: leg.note,
      });
    });
    return { legs, units_left: total_minor - floor_sum };
  }
}

/** Tie-break and output order: rule order, then party id, then role, then line id. */
export function compareExactLegs(a: ExactLeg, b: ExactLeg): number {
  if (a.rule_order !== b.rule_order) return a.rule_order - b.rule_order;
  return (
    compareStrings(a.party_id, b.party_id) ||
    compareStrings(a.role, b.role) ||
    compareLineIds(a.line_id, b.line_id)
  );
}

/** A decimal for explanations: exact when whole, else "≈" and rounded half up to the minor unit. */
export function formatExact(numerator: bigint, denominator: bigint, currency: string): string {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const nearest = (magnitude * 2n + denominator) / (denominator * 2n);
  const text = formatDecimal(negative ? -nearest : nearest, currency);
  return magnitude % denominator === 0n ? text : `≈${text}`;
}
