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

  /**
   * Rounds every leg with largest remainder, in tie-break order, and drops zero
   * legs. `rounded_up` names the legs that got a leftover unit, largest
   * remainder first, so the explanation can say which (issue 12).
   */
  round(total_minor: bigint): { legs: Leg[]; units_left: bigint; rounded_up: Leg[] } {
    this.legs.sort(compareExactLegs);
    assert(this.total() === total_minor * this.denominator, "exact legs sum to the total before rounding");
    const rounded = largestRemainder(
      this.legs.map((leg) => leg.numerator),
      this.denominator,
    );
    let floor_sum = 0n;
    for (const leg of this.legs) floor_sum += leg.numerator / this.denominator;
    const legs: Leg[] = [];
    const rounded_up: { leg: Leg; remainder: bigint }[] = [];
    this.legs.forEach((leg, index) => {
      const amount_minor = rounded[index]!;
      if (amount_minor === 0n) return;
      const output: Leg = {
        party_id: leg.party_id,
        role: leg.role,
        amount_minor,
        rule_id: leg.rule_id,
        ...(leg.line_id === undefined ? {} : { line_id: leg.line_id }),
        basis_minor: leg.basis_minor,
        ...(leg.rate_bp === undefined ? {} : { rate_bp: leg.rate_bp }),
        note: leg.note,
      };
      legs.push(output);
      if (amount_minor > leg.numerator / this.denominator)
        rounded_up.push({ leg: output, remainder: leg.numerator % this.denominator });
    });
    const units_left = total_minor - floor_sum;
    assert(BigInt(rounded_up.length) === units_left, "each leftover unit went to exactly one leg");
    // Largest remainder first; equal remainders keep the tie-break order they were rounded in.
    const ranked = rounded_up.map((item, position) => ({ ...item, position }));
    ranked.sort((a, b) =>
      a.remainder !== b.remainder ? (a.remainder > b.remainder ? -1 : 1) : a.position - b.position,
    );
    return { legs, units_left, rounded_up: ranked.map((item) => item.leg) };
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

/** Decimal places an exact amount may show before it is written as a fraction instead. */
const exact_places_max = 12;

/**
 * An amount of `numerator / denominator` minor units for explanations, never
 * rounded (issue 12: a reader must be able to redo the arithmetic): a decimal
 * when it terminates within 12 places of the minor unit ("152.0454"), else the
 * reduced fraction of minor units, with a truncated decimal to read it by
 * ("13813577999/2193600 minor units (62.97218…)").
 */
export function formatExact(numerator: bigint, denominator: bigint, currency: string): string {
  assert(denominator > 0n, "an exact amount has a positive denominator");
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const sign = negative ? "-" : "";
  const divisor = gcd(magnitude, denominator);
  const top = magnitude / divisor;
  const bottom = denominator / divisor;
  if (bottom === 1n) return formatDecimal(negative ? -top : top, currency);
  const places = decimalPlaces(bottom);
  if (places !== null) return `${sign}${withExtraPlaces(top, bottom, places, currency)}`;
  // Not a terminating decimal: the fraction is the exact value, the digits after it a reading aid.
  const reading = withExtraPlaces(top, bottom, reading_places, currency);
  return `${sign}${top}/${bottom} minor units (${sign}${reading}…)`;
}

/** Extra places shown after a non-terminating exact amount, truncated and marked with "…". */
const reading_places = 4;

/** top/bottom minor units as a decimal with `places` digits past the minor unit, truncated, trailing zeros dropped. */
function withExtraPlaces(top: bigint, bottom: bigint, places: number, currency: string): string {
  const scaled = (top * 10n ** BigInt(places)) / bottom;
  const digits = scaled.toString().padStart(places + 1, "0");
  const minor = digits.slice(0, digits.length - places);
  const extra = digits.slice(digits.length - places).replace(/0+$/, "");
  return `${formatDecimal(BigInt(minor), currency)}${extra}`;
}

/** The reduced fraction `numerator/denominator`, for the exact factors in notes ("272555/274200" stays as given). */
export function formatFraction(numerator: bigint, denominator: bigint): string {
  assert(denominator > 0n, "a fraction has a positive denominator");
  assert(numerator >= 0n, "a factor is never negative");
  const divisor = gcd(numerator, denominator);
  return `${numerator / divisor}/${denominator / divisor}`;
}

/** How many decimal places 1/bottom needs, or null when it does not terminate within exact_places_max. */
function decimalPlaces(bottom: bigint): number | null {
  for (let places = 1; places <= exact_places_max; places += 1)
    if (10n ** BigInt(places) % bottom === 0n) return places;
  return null;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}
