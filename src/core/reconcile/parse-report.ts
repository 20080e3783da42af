import { currencyExponent } from "../currency.ts";
import { add, type Exact, formatExact, subtract, zero } from "./decimal.ts";
import type { BillRow, SummaryCheck } from "./types.ts";

// The parse report: the `--dry-run --json` object. Totals per currency are
// exact decimal strings in major units: gross (payments), refunds (refunds and
// chargebacks, positive), fees (charged, net of fees given back), and net.

interface Totals {
  gross: Exact;
  refunds: Exact;
  fees: Exact;
}

export class BillTotals {
  private readonly by_currency = new Map<string, Totals>();

  add(row: BillRow): void {
    const totals = this.by_currency.get(row.currency) ?? { gross: zero, refunds: zero, fees: zero };
    if (row.kind === "payment") totals.gross = add(totals.gross, row.amount);
    if (row.kind === "refund" || row.kind === "chargeback") totals.refunds = add(totals.refunds, row.amount);
    if (row.kind === "fee") totals.fees = add(totals.fees, row.amount);
    totals.fees = add(totals.fees, row.fee);
    this.by_currency.set(row.currency, totals);
  }

  json(): Record<string, { gross: string; refunds: string; fees: string; net: string }> {
    const out: Record<string, { gross: string; refunds: string; fees: string; net: string }> = {};
    for (const currency of [...this.by_currency.keys()].sort()) {
      const totals = this.by_currency.get(currency)!;
      const exponent = currencyExponent(currency);
      const net = subtract(subtract(totals.gross, totals.refunds), totals.fees);
      out[currency] = {
        gross: formatExact(totals.gross, exponent),
        refunds: formatExact(totals.refunds, exponent),
        fees: formatExact(totals.fees, exponent),
        net: formatExact(net, exponent),
      };
    }
    return out;
  }
}

export interface BillReport {
  provider: string;
  file_sha256: string;
  encoding: string;
  rows_total: number;
  rows_parsed: number;
  rows_rejected: { line: number; reason: string }[];
  totals: Record<string, { gross: string; refunds: string; fees: string; net: string }>;
  summary: SummaryCheck;
}
