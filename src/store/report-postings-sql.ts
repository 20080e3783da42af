import type { Queryable } from "./database.ts";

// The reports' reads of postings and balances (service/reports): the
// transactions behind a statement line, the postings a split is cut from, and
// where each party's money is now.

export interface TransactionTotalRow {
  transaction_id: string;
  kind: string;
  effective_at: Date;
  /** Σ of the transaction's postings on the accounts, as decimal text. */
  amount_minor: string;
}

/**
 * The journal transactions with postings on these accounts effective in
 * [from, to), after the transaction id `after` (all when null), by id; `limit` rows.
 */
export function selectTransactionTotalsOnAccounts(
  tx: Queryable,
  tenant_id: string,
  account_ids: readonly string[],
  window: { from: Date; to: Date; after: string | null },
  limit: number,
): Promise<TransactionTotalRow[]> {
  return tx.query<TransactionTotalRow & Record<string, unknown>>(
    `SELECT j.id::text AS transaction_id, j.kind, min(p.effective_at) AS effective_at,
            sum(p.amount_minor)::text AS amount_minor
       FROM postings p JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE p.tenant_id = $1 AND p.account_id = ANY($2::uuid[])
        AND p.effective_at >= $3 AND p.effective_at < $4 AND ($5::uuid IS NULL OR p.transaction_id > $5::uuid)
      GROUP BY j.id, j.kind ORDER BY j.id LIMIT $6`,
    [tenant_id, account_ids, window.from, window.to, window.after, limit],
  );
}

export interface TransactionPostingRow {
  transaction_id: string;
  seq: number;
  order_id: string | null;
  account_id: string;
  /** Decimal text. */
  amount_minor: string;
}

/** The postings of these transactions on these accounts, with each transaction's order. */
export function selectPostingsOfTransactions(
  tx: Queryable,
  tenant_id: string,
  transaction_ids: readonly string[],
  account_ids: readonly string[],
): Promise<TransactionPostingRow[]> {
  return tx.query<TransactionPostingRow & Record<string, unknown>>(
    `SELECT p.transaction_id::text AS transaction_id, p.seq, j.order_id, p.account_id::text AS account_id,
            p.amount_minor::text AS amount_minor
       FROM postings p JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE p.tenant_id = $1 AND p.transaction_id = ANY($2::uuid[]) AND p.account_id = ANY($3::uuid[])`,
    [tenant_id, transaction_ids, account_ids],
  );
}

/** Which parties and currencies a settlement report covers; null is every one. */
export interface SettlementFilter {
  party_id: string | null;
  currency: string | null;
}

/** The posted balance (decimal text) of each party's settlement accounts, per party, currency and purpose. */
export function selectSettlementBalances(
  tx: Queryable,
  tenant_id: string,
  filter: SettlementFilter,
): Promise<{ party_id: string; currency: string; purpose: string; posted: string }[]> {
  return tx.query<{ party_id: string; currency: string; purpose: string; posted: string }>(
    `SELECT a.party_id, a.currency::text AS currency, a.purpose, sum(b.posted_minor)::text AS posted
       FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 AND ($2::text IS NULL OR a.party_id = $2) AND ($3::text IS NULL OR a.currency = $3)
        AND a.purpose IN ('held', 'available', 'in_transit', 'paid_out', 'debt')
      GROUP BY 1, 2, 3`,
    [tenant_id, filter.party_id, filter.currency],
  );
}

/** Per party and currency, what its held accounts hold (decimal text) of orders releasable at `now` and not released. */
export function selectReleasableHeld(
  tx: Queryable,
  tenant_id: string,
  filter: SettlementFilter,
  now: Date,
): Promise<{ party_id: string; currency: string; amount: string }[]> {
  return tx.query<{ party_id: string; currency: string; amount: string }>(
    `SELECT a.party_id, a.currency::text AS currency, sum(p.amount_minor)::text AS amount
       FROM (
         -- Every due order, parked behind a case or not: each half through its own partial index
         -- (orders_release_due, orders_release_held; migrations 121, 122).
         SELECT tenant_id, id FROM orders
          WHERE tenant_id = $1 AND released_at IS NULL AND releasable_at <= $4 AND NOT release_parked
         UNION ALL
         SELECT tenant_id, id FROM orders
          WHERE tenant_id = $1 AND released_at IS NULL AND releasable_at <= $4 AND release_parked) o
       JOIN journal_transactions j ON j.tenant_id = o.tenant_id AND j.order_id = o.id
       JOIN postings p ON p.tenant_id = j.tenant_id AND p.transaction_id = j.id
       JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id AND a.purpose = 'held'
      WHERE ($2::text IS NULL OR a.party_id = $2) AND ($3::text IS NULL OR a.currency = $3)
      GROUP BY 1, 2`,
    [tenant_id, filter.party_id, filter.currency, now],
  );
}
