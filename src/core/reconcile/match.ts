import { assert } from "../assert.ts";
import { currencyExponent } from "../currency.ts";
import { add, compare, type Exact, formatExact, fromMinor, negate, subtract } from "./decimal.ts";
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
  /** How the row found it: the provider's reference is trusted alone; our order id also needs the date. */
  matched_by?: "reference" | "order_id";
  /** When the ledger item happened (an order's paid_at), for the date tolerance. */
  at_ms?: number | null;
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

export interface MatchTolerance {
  /** Amounts (and fees) within this many minor units agree. */
  amount_minor: bigint;
  /** A row found by our order id must be within this of the ledger's time (midnight, time zones). */
  date_ms: number;
}

export interface RowDecision {
  status: ReconciliationStatus;
  reason: string | null;
}

/**
 * What one bill row is against the ledger item found for it. A payment found
 * only by our order id must also be within the date tolerance: beyond it the
 * row claims nothing (`missing_in_ledger`, with the reason), and the order is
 * judged on its own.
 */
export function decideRow(
  row: BillRow,
  item: LedgerItem | undefined,
  tolerance: MatchTolerance,
  row_at_ms: number | null = null,
): RowDecision {
  if (item === undefined) return { status: "missing_in_ledger", reason: null };
  if (
    item.matched_by === "order_id" &&
    row.kind === "payment" &&
    row_at_ms !== null &&
    item.at_ms != null &&
    Math.abs(row_at_ms - item.at_ms) > tolerance.date_ms
  )
    return {
      status: "missing_in_ledger",
      reason: `order ${item.order_id} was paid at ${new Date(item.at_ms).toISOString()}, ${Math.round(Math.abs(row_at_ms - item.at_ms) / 60_000)} minutes from the bill's ${new Date(row_at_ms).toISOString()}, beyond the date tolerance of ${tolerance.date_ms} ms`,
    };
  if (item.currency !== row.currency)
    return {
      status: "amount_mismatch",
      reason: `currency ${row.currency} in the bill, ${item.currency} in the ledger`,
    };
  const exponent = currencyExponent(row.currency);
  const amount_tolerance = fromMinor(tolerance.amount_minor, exponent);
  if (!within(subtract(row.amount, fromMinor(item.amount_minor, exponent)), amount_tolerance))
    return { status: "amount_mismatch", reason: null };
  if (
    row.kind === "payment" &&
    item.fee_minor !== null &&
    !within(subtract(row.fee, fromMinor(item.fee_minor, exponent)), amount_tolerance)
  )
    return { status: "fee_mismatch", reason: null };
  return { status: "matched", reason: null };
}

export interface PayoutCandidate {
  id: string;
  reference: string;
  run_id: string;
  currency: string;
  amount_minor: bigint;
}

export interface PayoutItem {
  status: ReconciliationStatus;
  reason: string | null;
  match_group: string | null;
  /** The bill row, or null for a payout item of a group matched by several payouts. */
  row: BillRow | null;
  payout: PayoutCandidate | null;
}

/**
 * Payout rows against our payouts, one-to-one, one-to-many and many-to-one.
 * A row names a payout by its reference, or a whole settlement run by the
 * run's id (the bank paid the run's file as one batch). Rows naming the same
 * target form a group; a repeated provider movement in it is a duplicate; the
 * group matches when the rows' sum and the payouts' sum agree within the
 * tolerance, and every member of a group that does not is an amount_mismatch.
 * Pure: the import reads the candidates.
 */
export function matchPayouts(
  rows: readonly BillRow[],
  by_reference: ReadonlyMap<string, PayoutCandidate>,
  by_run: ReadonlyMap<string, readonly PayoutCandidate[]>,
  tolerance_minor: bigint,
): PayoutItem[] {
  const items: PayoutItem[] = [];
  const groups = new Map<string, { rows: BillRow[]; payouts: readonly PayoutCandidate[] }>();
  for (const row of rows) {
    assert(row.kind === "payout", "only payout rows are grouped");
    const references = [row.provider_reference, row.payment_reference].filter(
      (reference): reference is string => reference !== null,
    );
    const payout = references.map((reference) => by_reference.get(reference)).find((found) => found);
    const run = references.find((reference) => by_run.has(reference));
    const key =
      payout !== undefined ? `payout:${payout.id}` : run !== undefined ? `run:${run}:${row.currency}` : null;
    if (key === null) {
      items.push({ status: "missing_in_ledger", reason: null, match_group: null, row, payout: null });
      continue;
    }
    const payouts =
      payout !== undefined
        ? [payout]
        : by_run.get(run!)!.filter((candidate) => candidate.currency === row.currency);
    const group = groups.get(key) ?? { rows: [], payouts };
    group.rows.push(row);
    groups.set(key, group);
  }
  for (const [key, group] of groups)
    items.push(...decideGroup(key, group.rows, group.payouts, tolerance_minor));
  return items.sort(
    (a, b) => (a.row?.line ?? Number.MAX_SAFE_INTEGER) - (b.row?.line ?? Number.MAX_SAFE_INTEGER),
  );
}

function decideGroup(
  key: string,
  rows: readonly BillRow[],
  payouts: readonly PayoutCandidate[],
  tolerance_minor: bigint,
): PayoutItem[] {
  const seen = new Set<string>();
  const counted: BillRow[] = [];
  const items: PayoutItem[] = [];
  for (const row of rows) {
    if (row.provider_reference !== null && seen.has(row.provider_reference)) {
      items.push({
        status: "duplicate",
        reason: null,
        match_group: key,
        row,
        payout: payouts.length === 1 ? payouts[0]! : null,
      });
      continue;
    }
    if (row.provider_reference !== null) seen.add(row.provider_reference);
    counted.push(row);
  }
  const currency = counted[0]?.currency ?? payouts[0]?.currency ?? "XXX";
  const exponent = currencyExponent(currency);
  let bill_sum: Exact = { units: 0n, scale: 0 };
  for (const row of counted) bill_sum = add(bill_sum, row.amount);
  const ledger_minor = payouts.reduce((sum, payout) => sum + payout.amount_minor, 0n);
  const agrees =
    payouts.length > 0 &&
    counted.every((row) => row.currency === currency) &&
    within(subtract(bill_sum, fromMinor(ledger_minor, exponent)), fromMinor(tolerance_minor, exponent));
  const status: ReconciliationStatus = agrees ? "matched" : "amount_mismatch";
  const grouped = counted.length > 1 || payouts.length > 1;
  const reason = agrees
    ? grouped
      ? `${counted.length} bill rows against ${payouts.length} payouts, each side ${formatExact(bill_sum, exponent)}`
      : null
    : `${counted.length} bill rows summing ${formatExact(bill_sum, exponent)} against ${payouts.length} payouts summing ${formatExact(fromMinor(ledger_minor, exponent), exponent)}`;
  const single = payouts.length === 1 ? payouts[0]! : null;
  for (const row of counted)
    items.push({ status, reason, match_group: grouped ? key : null, row, payout: single });
  if (single === null)
    for (const payout of payouts) items.push({ status, reason, match_group: key, row: null, payout });
  return items;
}

export function exactText(value: Exact, currency: string): string {
  return formatExact(value, currencyExponent(currency));
}
