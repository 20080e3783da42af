import { maskAccountRef } from "./profile.ts";

// The transparency-log record of a payout (kind `settlement_batch`): what was
// paid, to whom, for which period and which entries. Built from the payout's
// immutable columns only, so confirming or failing it (its own journal
// transactions, logged as such) leaves the record unchanged.

export interface PayoutRecordInput {
  id: string;
  party_id: string;
  currency: string;
  cycle_key: string;
  run_id: string;
  period_start: Date | null;
  period_end: Date;
  carried_over: boolean;
  eligible_minor: bigint;
  netted_minor: bigint;
  amount_minor: bigint;
  minimum_payout_minor: bigint;
  payout_account_ref: string | null;
  reference: string;
  transaction_id: string | null;
  entries: readonly { transaction_id: string; seq: number; order_id: string | null; amount_minor: bigint }[];
}

export interface PayoutRecord {
  type: "settlement_batch";
  [key: string]: unknown;
}

export function payoutRecord(payout: PayoutRecordInput): PayoutRecord {
  // Keys in canonical (RFC 8785) order.
  return {
    amount_minor: Number(payout.amount_minor),
    carried_over: payout.carried_over,
    currency: payout.currency,
    cycle_key: payout.cycle_key,
    eligible_minor: Number(payout.eligible_minor),
    entries: payout.entries.map((entry) => ({
      amount_minor: Number(entry.amount_minor),
      order_id: entry.order_id,
      seq: entry.seq,
      transaction_id: entry.transaction_id,
    })),
    id: payout.id,
    minimum_payout_minor: Number(payout.minimum_payout_minor),
    netted_minor: Number(payout.netted_minor),
    party_id: payout.party_id,
    payout_account: maskAccountRef(payout.payout_account_ref),
    period_end: payout.period_end.toISOString(),
    period_start: payout.period_start?.toISOString() ?? null,
    reference: payout.reference,
    run_id: payout.run_id,
    transaction_id: payout.transaction_id,
    type: "settlement_batch",
  };
}
