import { currencyExponent, isCurrency } from "../../../src/core/currency.ts";

// Numbers, money and dates for people, in the console's language. Money comes
// from the API as integer minor units; it becomes a decimal string by string
// arithmetic and Intl formats that string exactly (no float ever holds it).

export type Lang = "zh-CN" | "zh-TW" | "en";

const integer_pattern = /^-?\d+$/;

/** "12345" with exponent 2 → "123.45"; "-5" → "-0.05". */
export function minorToDecimal(minor: string, exponent: number): string {
  if (!integer_pattern.test(minor)) throw new RangeError(`not an integer amount: ${minor}`);
  const negative = minor.startsWith("-");
  const digits = (negative ? minor.slice(1) : minor).replace(/^0+(?=\d)/, "").padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const body = exponent === 0 ? whole : `${whole}.${digits.slice(digits.length - exponent)}`;
  return negative && /[1-9]/.test(digits) ? `-${body}` : body;
}

export type Minor = number | bigint | string;

function minorText(minor: Minor): string {
  if (typeof minor === "number") {
    if (!Number.isSafeInteger(minor)) throw new RangeError(`amount ${minor} is not an exact integer`);
    return BigInt(minor).toString();
  }
  return typeof minor === "bigint" ? minor.toString() : minor;
}

const money_formats = new Map<string, Intl.NumberFormat>();

export function formatMoney(minor: Minor, currency: string, lang: Lang): string {
  const exponent = isCurrency(currency) ? currencyExponent(currency) : 2;
  const key = `${lang}|${currency}`;
  let format = money_formats.get(key);
  if (format === undefined) {
    format = new Intl.NumberFormat(lang, {
      style: "currency",
      currency,
      currencyDisplay: lang === "en" ? "code" : "symbol",
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    money_formats.set(key, format);
  }
  // A decimal string is formatted exactly (ECMA-402 treats it as a mathematical value).
  return format.format(minorToDecimal(minorText(minor), exponent) as unknown as number);
}

export function formatNumber(value: number | bigint, lang: Lang): string {
  return new Intl.NumberFormat(lang).format(value);
}

export function formatPercent(basis_points: number, lang: Lang): string {
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 2 }).format(
    basis_points / 10_000,
  );
}

export function formatDateTime(iso: string | null | undefined, lang: Lang): string {
  if (iso === null || iso === undefined) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  // dateStyle/timeStyle cannot be combined with timeZoneName, so the fields are spelled out.
  return new Intl.DateTimeFormat(lang, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(date);
}

/** A UTC calendar day ("2026-11-30") as the language writes it. */
export function formatDay(day: string, lang: Lang): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" }).format(date);
}

export function exponentOf(currency: string): number {
  return isCurrency(currency) ? currencyExponent(currency) : 2;
}
