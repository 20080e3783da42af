import { assert } from "../assert.ts";

// Exact decimals for provider bills. A bill's amount is a decimal string in
// major units, sometimes with more places than the currency's minor unit
// (WeChat Pay fees carry five). It is held as integer units at its own scale,
// summed at a common scale, and printed back with every place it had: never a
// float, never rounded.

export interface Exact {
  units: bigint;
  scale: number;
}

export const zero: Exact = { units: 0n, scale: 0 };
const decimal_text = /^([+-])?(\d{1,30})(?:\.(\d{1,12}))?$/;

/** Parses "-1,234.5600" (thousands separators allowed), or returns null. */
export function parseExact(text: string): Exact | null {
  const cleaned = text.trim().replaceAll(",", "");
  const match = decimal_text.exec(cleaned);
  if (match === null) return null;
  const fraction = match[3] ?? "";
  const magnitude = BigInt(`${match[2]}${fraction}`);
  return { units: match[1] === "-" ? -magnitude : magnitude, scale: fraction.length };
}

function rescale(value: Exact, scale: number): bigint {
  assert(scale >= value.scale, "rescaling never drops places");
  return value.units * 10n ** BigInt(scale - value.scale);
}

export function add(a: Exact, b: Exact): Exact {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}

export function negate(a: Exact): Exact {
  return { units: -a.units, scale: a.scale };
}

export function subtract(a: Exact, b: Exact): Exact {
  return add(a, negate(b));
}

export function compare(a: Exact, b: Exact): number {
  const scale = Math.max(a.scale, b.scale);
  const difference = rescale(a, scale) - rescale(b, scale);
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}

export function isZero(a: Exact): boolean {
  return a.units === 0n;
}

/** Prints with at least `min_scale` places and every significant place it has. */
export function formatExact(value: Exact, min_scale: number): string {
  // Drop trailing zeros beyond the minimum: 0.00600 reads 0.006 at scale 2 → "0.006".
  let { units, scale } = value;
  while (scale > min_scale && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  const target = Math.max(scale, min_scale);
  const scaled = rescale({ units, scale }, target);
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(target + 1, "0");
  const whole = digits.slice(0, digits.length - target);
  const fraction = digits.slice(digits.length - target);
  const body = target === 0 ? whole : `${whole}.${fraction}`;
  return negative ? `-${body}` : body;
}

/** Minor units when the value fits the currency's exponent exactly; null when it has sub-minor places. */
export function toMinorExact(value: Exact, exponent: number): bigint | null {
  if (value.scale <= exponent) return rescale(value, exponent);
  const divisor = 10n ** BigInt(value.scale - exponent);
  return value.units % divisor === 0n ? value.units / divisor : null;
}

export function fromMinor(minor: bigint, exponent: number): Exact {
  return { units: minor, scale: exponent };
}
