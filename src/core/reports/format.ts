import { currencyExponent } from "../currency.ts";
import { formatDecimal } from "../money.ts";

// Numbers for people, exact: minor units are formatted by string arithmetic
// (never through a float), grouped by thousands, with the currency shown the
// way each language expects. All three languages group by three digits and
// use "." for decimals; they differ in how the currency is written.

export const report_langs = ["en", "zh-CN", "zh-TW"] as const;
export type ReportLang = (typeof report_langs)[number];

export function isReportLang(value: unknown): value is ReportLang {
  return typeof value === "string" && (report_langs as readonly string[]).includes(value);
}

// biome-ignore format: a table reads better in rows
const symbol_zh: Readonly<Record<string, string>> = {
  CNY: "¥", USD: "US$", EUR: "€", GBP: "£", JPY: "JP¥", HKD: "HK$", TWD: "NT$", MOP: "MOP$", SGD: "S$",
};

/** "1,234.50": the amount grouped, no currency. */
export function groupedDecimal(amount_minor: bigint, currency: string): string {
  const plain = formatDecimal(amount_minor, currency);
  const negative = plain.startsWith("-");
  const [whole, fraction] = (negative ? plain.slice(1) : plain).split(".");
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
}

/** en: "CNY 1,234.50"; zh-CN and zh-TW: "¥1,234.50" (or the code for currencies without a common sign). */
export function formatAmount(amount_minor: bigint, currency: string, lang: ReportLang): string {
  const grouped = groupedDecimal(amount_minor, currency);
  const negative = grouped.startsWith("-");
  const body = negative ? grouped.slice(1) : grouped;
  const symbol = lang === "en" ? undefined : symbol_zh[currency];
  const text = symbol === undefined ? `${currency} ${body}` : `${symbol}${body}`;
  return negative ? `-${text}` : text;
}

/** The spreadsheet number format for a currency: grouped, its exponent in decimals, negatives with a minus. */
export function spreadsheetFormat(currency: string): string {
  const exponent = currencyExponent(currency);
  return exponent === 0 ? "#,##0" : `#,##0.${"0".repeat(exponent)}`;
}
