import { assert } from "./assert.ts";
import { currencyExponent, isCurrency } from "./currency.ts";
import { DomainError } from "./errors.ts";

// Amounts are bigint minor units everywhere inside ClearSplit. At the API
// boundary they are JSON integers, so they must stay exact as IEEE doubles.
export const amount_minor_max = 2n ** 53n - 1n;

export interface Money {
  readonly amount_minor: bigint;
  readonly currency: string;
}

export function money(amount_minor: bigint, currency: string): Money {
  assert(typeof amount_minor === "bigint", "amount_minor must be a bigint");
  assertCurrency(currency, "currency");
  return { amount_minor, currency };
}

export function assertCurrency(currency: unknown, field: string): asserts currency is string {
  if (!isCurrency(currency)) {
    throw new DomainError(
      "currency_invalid",
      `${field} must be an ISO 4217 code, got ${JSON.stringify(currency)}`,
      field,
    );
  }
}

/**
 * Checks an amount that arrived from outside: an integer, positive unless
 * `allow_zero`, and no larger than the API limit. Returns it as a bigint.
 */
export function amountFromInput(value: unknown, field: string, allow_zero = false): bigint {
  let amount_minor: bigint;
  if (typeof value === "bigint") amount_minor = value;
  else if (typeof value === "number" && Number.isInteger(value)) amount_minor = BigInt(value);
  else if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) amount_minor = BigInt(value);
  else throw new DomainError("amount_invalid", `${field} must be an integer number of minor units`, field);
  if (amount_minor < 0n || (amount_minor === 0n && !allow_zero)) {
    throw new DomainError(
      "amount_not_positive",
      `${field} must be ${allow_zero ? "zero or more" : "greater than zero"}, got ${amount_minor}`,
      field,
    );
  }
  if (amount_minor > amount_minor_max) {
    throw new DomainError(
      "amount_too_large",
      `${field} must be at most ${amount_minor_max} minor units, got ${amount_minor}`,
      field,
    );
  }
  return amount_minor;
}

const decimal_pattern = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Parses "1234.50" in the currency's exponent into minor units, refusing extra precision. */
export function parseDecimal(text: string, currency: string, field = "amount"): bigint {
  assertCurrency(currency, "currency");
  const exponent = currencyExponent(currency);
  const match = decimal_pattern.exec(text.trim());
  if (!match)
    throw new DomainError(
      "amount_invalid",
      `${field} is not a decimal number: ${JSON.stringify(text)}`,
      field,
    );
  const [, sign, whole, fraction = ""] = match;
  if (fraction.length > exponent) {
    throw new DomainError(
      "amount_precision",
      `${field} has ${fraction.length} decimal places but ${currency} has ${exponent}`,
      field,
    );
  }
  const digits = whole! + fraction.padEnd(exponent, "0");
  const magnitude = BigInt(digits);
  return sign ? -magnitude : magnitude;
}

/** Formats minor units as a plain decimal string in the currency's exponent ("-12.05"). */
export function formatDecimal(amount_minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amount_minor < 0n;
  const digits = (negative ? -amount_minor : amount_minor).toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  const body = exponent === 0 ? whole : `${whole}.${fraction}`;
  return negative ? `-${body}` : body;
}

/** Grouped display form for people: "1,234.50 CNY". Never parsed back. */
export function formatMoney(amount_minor: bigint, currency: string): string {
  const plain = formatDecimal(amount_minor, currency);
  const negative = plain.startsWith("-");
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split(".");
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`} ${currency}`;
}

export function sumMinor(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}
