import { assert } from "../assert.ts";
import { currencyExponent, isCurrency } from "../currency.ts";
import { sha256Hex } from "../sha256.ts";

// A reconciliation's result as a file finance can open: one CSV line per
// item, in item order, amounts as exact decimals (the bill's as written, the
// ledger's from minor units) and as minor units. Pure: the route reads the
// items and sends the text with its digest.

export const result_file_columns = [
  "seq",
  "status",
  "kind",
  "bill_line",
  "provider_reference",
  "order_id",
  "refund_id",
  "payout_id",
  "currency",
  "bill_amount",
  "ledger_amount",
  "ledger_amount_minor",
  "bill_fee",
  "ledger_fee_minor",
  "match_group",
  "reason",
] as const;

export interface ResultItem {
  seq: number;
  status: string;
  kind: string;
  bill_line: number | null;
  provider_reference: string | null;
  order_id: string | null;
  refund_id: string | null;
  payout_id: string | null;
  currency: string | null;
  bill_amount: string | null;
  ledger_amount_minor: bigint | null;
  bill_fee: string | null;
  ledger_fee_minor: bigint | null;
  match_group: string | null;
  reason: string | null;
}

/** RFC 4180 quoting; a cell that a spreadsheet would run as a formula is prefixed with a quote mark. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function minorText(minor: bigint, currency: string | null): string {
  const exponent = currency !== null && isCurrency(currency) ? currencyExponent(currency) : 2;
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, "0");
  const text = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${text}` : text;
}

export function resultCsv(items: readonly ResultItem[]): { csv: string; sha256: string } {
  const lines = [result_file_columns.join(",")];
  let previous = -1;
  for (const item of items) {
    assert(item.seq > previous, "items in seq order");
    previous = item.seq;
    const cells = [
      String(item.seq),
      item.status,
      item.kind,
      item.bill_line === null ? "" : String(item.bill_line),
      item.provider_reference ?? "",
      item.order_id ?? "",
      item.refund_id ?? "",
      item.payout_id ?? "",
      item.currency ?? "",
      item.bill_amount ?? "",
      item.ledger_amount_minor === null ? "" : minorText(item.ledger_amount_minor, item.currency),
      item.ledger_amount_minor === null ? "" : item.ledger_amount_minor.toString(),
      item.bill_fee ?? "",
      item.ledger_fee_minor === null ? "" : item.ledger_fee_minor.toString(),
      item.match_group ?? "",
      item.reason ?? "",
    ];
    lines.push(cells.map(csvCell).join(","));
  }
  const csv = `${lines.join("\r\n")}\r\n`;
  return { csv, sha256: sha256Hex(csv) };
}
