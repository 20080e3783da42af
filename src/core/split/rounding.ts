import { assert } from "../assert.ts";

/**
 * Largest remainder (Hamilton) rounding. Share i is exactly numerators[i] /
 * denominator; the exact shares sum to a whole number of minor units. Every
 * share gets its floor, and the units left over go one each to the shares with
 * the largest fractional remainders. Equal remainders go to the share that comes
 * first in the array, so callers put shares in tie-break order (rule order, then
 * party id) before calling. The result sums to the exact total, and each result
 * is the floor or the ceiling of its exact share.
 */
export function largestRemainder(numerators: readonly bigint[], denominator: bigint): bigint[] {
  assert(denominator > 0n, "the denominator is positive");
  let numerator_sum = 0n;
  for (const numerator of numerators) {
    assert(numerator >= 0n, "exact shares are never negative");
    numerator_sum += numerator;
  }
  assert(numerator_sum % denominator === 0n, "exact shares sum to a whole number of minor units");
  const total = numerator_sum / denominator;
  const result = numerators.map((numerator) => numerator / denominator);
  let floor_sum = 0n;
  for (const value of result) floor_sum += value;
  const units_left = total - floor_sum;
  assert(
    units_left >= 0n && units_left <= BigInt(numerators.length),
    "the leftover is fewer units than shares",
  );
  if (units_left === 0n) return result;
  const ranked = numerators.map((_, index) => index);
  ranked.sort((a, b) => {
    const remainder_a = numerators[a]! % denominator;
    const remainder_b = numerators[b]! % denominator;
    if (remainder_a !== remainder_b) return remainder_a > remainder_b ? -1 : 1;
    return a - b;
  });
  for (let rank = 0; rank < Number(units_left); rank += 1) {
    const index = ranked[rank]!;
    result[index] = result[index]! + 1n;
  }
  return result;
}

/**
 * Splits a whole amount over integer weights, pro rata, with largest remainder.
 * Weights in tie-break order; a zero total weight is allowed only for a zero amount.
 */
export function splitProRata(amount_minor: bigint, weights: readonly bigint[]): bigint[] {
  assert(amount_minor >= 0n, "the amount to split is never negative");
  let weight_sum = 0n;
  for (const weight of weights) weight_sum += weight;
  if (amount_minor === 0n) return weights.map(() => 0n);
  assert(weight_sum > 0n, "a positive amount needs a positive total weight");
  return largestRemainder(
    weights.map((weight) => weight * amount_minor),
    weight_sum,
  );
}

/** Line ids compare as numbers when both are all digits (so "2" < "10"), else by code units. */
export function compareLineIds(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (isDigits(a) && isDigits(b)) {
    const a_trim = trimZeros(a);
    const b_trim = trimZeros(b);
    if (a_trim.length !== b_trim.length) return a_trim.length - b_trim.length;
    if (a_trim !== b_trim) return a_trim < b_trim ? -1 : 1;
  }
  return a < b ? -1 : 1;
}

function isDigits(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return text.length > 0;
}

function trimZeros(digits: string): string {
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 48) start += 1;
  return start === 0 ? digits : digits.slice(start);
}

export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
