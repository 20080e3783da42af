import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// A party's view of the ledger (decisions §29): its balances by currency and
// purpose, now or as of an instant, and its entries a page at a time. Run them
// on a scoped handle for a caller (store/scoped.ts).

export interface PurposeBalanceRow {
  currency: string;
  purpose: string;
  posted_minor: bigint;
  pending_out_minor: bigint;
}

/** The party's balances per currency and purpose: from its balance rows now, or summed postings as of `as_of`. */
export function selectPartyPurposeBalances(
  db: Queryable,
  tenant_id: string,
  party_id: string,
  as_of: Date | undefined,
): Promise<PurposeBalanceRow[]> {
  return as_of === undefined
    ? db.query<PurposeBalanceRow & Record<string, unknown>>(
        `SELECT a.currency::text AS currency, a.purpose, coalesce(sum(b.posted_minor), 0)::int8 AS posted_minor,
                coalesce(sum(b.pending_out_minor), 0)::int8 AS pending_out_minor
           FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
          WHERE a.tenant_id = $1 AND a.party_id = $2 GROUP BY a.currency, a.purpose`,
        [tenant_id, party_id],
      )
    : db.query<PurposeBalanceRow & Record<string, unknown>>(
        `SELECT a.currency::text AS currency, a.purpose, coalesce(sum(p.amount_minor), 0)::int8 AS posted_minor, 0::int8 AS pending_out_minor
           FROM accounts a LEFT JOIN postings p ON p.tenant_id = a.tenant_id AND p.account_id = a.id AND p.effective_at <= $3
          WHERE a.tenant_id = $1 AND a.party_id = $2 GROUP BY a.currency, a.purpose`,
        [tenant_id, party_id, as_of],
      );
}

export interface PartyEntryRow {
  transaction_id: string;
  seq: number;
  kind: string;
  purpose: string;
  amount_minor: bigint;
  currency: string;
  effective_at: Date;
  recorded_at: Date;
  order_id: string | null;
}

/** The party's postings in (transaction_id, seq) order after the cursor's key, filtered; `limit` rows. */
export function selectPartyEntries(
  db: Queryable,
  tenant_id: string,
  party_id: string,
  filter: {
    purpose: string | null;
    currency: string | null;
    order_id: string | null;
    after: { transaction_id: string; seq: number } | null;
    limit: number;
  },
): Promise<PartyEntryRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return db.query<PartyEntryRow & Record<string, unknown>>(
    `SELECT p.transaction_id::text, p.seq, j.kind, a.purpose, p.amount_minor, p.currency::text AS currency, p.effective_at,
            j.recorded_at, j.order_id
       FROM accounts a
       JOIN postings p ON p.tenant_id = a.tenant_id AND p.account_id = a.id
       JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE a.tenant_id = $1 AND a.party_id = $2
        AND ($3::text IS NULL OR a.purpose = $3) AND ($4::text IS NULL OR a.currency = $4)
        AND ($5::text IS NULL OR j.order_id = $5)
        AND ($6::uuid IS NULL OR (p.transaction_id, p.seq) > ($6::uuid, $7::int2))
      ORDER BY p.transaction_id, p.seq LIMIT $8`,
    [
      tenant_id,
      party_id,
      filter.purpose,
      filter.currency,
      filter.order_id,
      filter.after?.transaction_id ?? null,
      filter.after?.seq ?? 0,
      filter.limit,
    ],
  );
}
