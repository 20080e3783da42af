import { split_piece_prefix } from "./split-lines.ts";

// How the journal's transaction kinds read on a statement. The split books
// each party's net share in one posting; the daily aggregates keep it in
// pieces by kind (`split:commission`, src/core/reports/split-lines.ts), so the
// statement shows the gross-to-net breakdown. A split whose legs could not be
// read (no order) stays one `split` row and reads as sales.

export const statement_buckets = ["held", "available", "in_transit", "debt"] as const;
export type StatementBucket = (typeof statement_buckets)[number];

const line_kind_by_journal_kind: Readonly<Record<string, string>> = {
  split: "sales",
  refund_reversal: "refunds",
  chargeback_reversal: "chargebacks",
  release: "releases",
  adjustment: "adjustments",
  hold: "holds",
  hold_post: "holds",
};

/** The statement line a journal kind lands on; payout and settlement kinds are payouts, unknown kinds keep their name. */
export function lineKindOf(journal_kind: string): string {
  if (journal_kind.startsWith(split_piece_prefix)) return journal_kind.slice(split_piece_prefix.length);
  const known = line_kind_by_journal_kind[journal_kind];
  if (known !== undefined) return known;
  if (journal_kind.startsWith("payout") || journal_kind.startsWith("settlement")) return "payouts";
  if (journal_kind.startsWith("adjust")) return "adjustments";
  return journal_kind;
}

/** The order lines appear in: the order, then any other kind by name. */
export const line_kind_order = [
  "sales",
  "commission",
  "coupons_subsidies",
  "supplier_cost",
  "referral_fees",
  "psp_fees",
  "tax",
  "shipping",
  "refunds",
  "chargebacks",
  "releases",
  "payouts",
  "adjustments",
  "holds",
] as const;

export function compareLineKinds(a: string, b: string): number {
  const rank = (kind: string) => {
    const index = (line_kind_order as readonly string[]).indexOf(kind);
    return index < 0 ? line_kind_order.length : index;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The sign a bucket is shown with: debt is what the party owes, shown as a
 * positive amount (as the balance API does), so its ledger amounts are negated.
 */
export function bucketSign(bucket: StatementBucket): bigint {
  return bucket === "debt" ? -1n : 1n;
}

/** Whether a journal kind lands on a statement line kind (the inverse of lineKindOf). */
export function journalKindOnLine(journal_kind: string, line_kind: string): boolean {
  return lineKindOf(journal_kind) === line_kind;
}
