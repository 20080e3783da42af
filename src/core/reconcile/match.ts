import { currencyExponent } from "../currency.ts";
import { compare, type Exact, formatExact, fromMinor, negate, subtract } from "./decimal.ts";
import type { BillRow } from "./types.ts";

// Deciding one bill row against the ledger item found for it. Pure: the
// import reads the candidates, this says what the row is.

export const reconciliation_statuses = [
  "matched",
  "missing_in_ledger",
  "missing_in_bill",
  "amount_mismatch",
  "fee_mismatch",
  "duplicate",
] as const;
export type ReconciliationStatus = (typeof reconciliation_statuses)[number];

export interface LedgerItem {
  kind: "payment" | "refund" | "chargeback" | "payout";
  order_id: string | null;
  refund_id: string | null;
  payout_id: string | null;
  currency: string;
  amount_minor: bigint;
  /** The provider fee the ledger knows of (orders carry psp.fee_minor); null when it does not. */
  fee_minor: bigint | null;
}

function within(difference: Exact, tolerance: Exact): boolean {
  const magnitude = difference.units < 0n ? negate(difference) : difference;
  return compare(magnitude, tolerance) <= 0;
}

export function decideRow(
  row: BillRow,
  item: LedgerItem | undefined,
  tolerance_minor: bigint,
): ReconciliationStatus {
  if (item === undefined) return "missing_in_ledger";
  if (item.currency !== row.currency) return "amount_mismatch";
  const exponent = currencyExponent(row.currency);
  const tolerance = fromMinor(tolerance_minor, exponent);
  if (!within(subtract(row.amount, fromMinor(item.amount_minor, exponent)), tolerance))
    return "amount_mismatch";
  if (
    row.kind === "payment" &&
    item.fee_minor !== null &&
    !within(subtract(row.fee, fromMinor(item.fee_minor, exponent)), tolerance)
  )
    return "fee_mismatch";
  return "matched";
}

export function exactText(value: Exact, currency: string): string {
  return formatExact(value, currencyExponent(currency));
}
