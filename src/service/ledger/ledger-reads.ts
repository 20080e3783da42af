import { DomainError } from "../../core/errors.ts";
import { entries_page_size_max } from "../../core/ledger/ledger-limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";

export interface AccountBalance {
  account_id: string;
  currency: string;
  posted_minor: bigint;
  pending_out_minor: bigint;
  pending_in_minor: bigint;
  available_minor: bigint;
}

/** The balance now: the sum of the account's bucket rows, which move with every posting. */
export async function getBalance(
  db: Queryable,
  tenant_id: string,
  account_id: string,
): Promise<AccountBalance> {
  const rows = await db.query<AccountBalance & Record<string, unknown>>(
    `SELECT a.id::text AS account_id, a.currency::text AS currency,
            coalesce(sum(b.posted_minor), 0)::int8 AS posted_minor,
            coalesce(sum(b.pending_out_minor), 0)::int8 AS pending_out_minor,
            coalesce(sum(b.pending_in_minor), 0)::int8 AS pending_in_minor
       FROM accounts a LEFT JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 AND a.id = $2
      GROUP BY a.id, a.currency`,
    [tenant_id, account_id],
  );
  const row = rows[0];
  if (row === undefined)
    throw new DomainError("account_not_found", `no account ${account_id} in this tenant`, "account_id");
  return { ...row, available_minor: row.posted_minor - row.pending_out_minor };
}

/**
 * The posted balance as of an instant, from the postings effective at or
 * before it. Pending holds are not historised, so only `posted` is given.
 */
export async function getPostedBalanceAsOf(
  db: Queryable,
  tenant_id: string,
  account_id: string,
  as_of: Date,
): Promise<bigint> {
  const rows = await db.query<{ posted_minor: bigint }>(
    `SELECT coalesce(sum(amount_minor), 0)::int8 AS posted_minor FROM postings
      WHERE tenant_id = $1 AND account_id = $2 AND effective_at <= $3`,
    [tenant_id, account_id, as_of],
  );
  return rows[0]?.posted_minor ?? 0n;
}

export interface EntryLine {
  transaction_id: string;
  seq: number;
  kind: string;
  amount_minor: bigint;
  currency: string;
  effective_at: Date;
  recorded_at: Date;
  order_id: string | null;
  memo: string | null;
}

export type { Page } from "../../core/page.ts";

/** An account's entries in booking order, a page at a time. The cursor is opaque to callers. */
export async function listEntries(
  db: Queryable,
  tenant_id: string,
  account_id: string,
  options: { cursor?: string | undefined; limit?: number | undefined } = {},
): Promise<Page<EntryLine>> {
  const limit = pageLimit(options.limit, 100, entries_page_size_max);
  const after = options.cursor === undefined ? null : entryCursor("account_entries", options.cursor);
  const rows = await db.query<EntryLine & Record<string, unknown>>(
    `SELECT p.transaction_id::text, p.seq, j.kind, p.amount_minor, p.currency::text, p.effective_at,
            j.recorded_at, j.order_id, j.memo
       FROM postings p
       JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE p.tenant_id = $1 AND p.account_id = $2
        AND ($3::uuid IS NULL OR (p.transaction_id, p.seq) > ($3::uuid, $4::int2))
      ORDER BY p.transaction_id, p.seq
      LIMIT $5`,
    [tenant_id, account_id, after?.transaction_id ?? null, after?.seq ?? 0, limit + 1],
  );
  return pageOf(rows, limit, "account_entries", entryCursorKey, (row) => ({ ...row, seq: Number(row.seq) }));
}

/** Entries page by (transaction_id, seq), the postings primary key order. */
export function entryCursorKey(row: { transaction_id: string; seq: number | string }): [string, number] {
  return [row.transaction_id, Number(row.seq)];
}

export function entryCursor(
  list: "account_entries" | "party_entries",
  cursor: string,
): { transaction_id: string; seq: number } {
  const [transaction_id, seq] = decodeCursor(list, cursor, ["uuid", "smallint"]);
  return { transaction_id, seq };
}

export interface CurrencyTotal {
  currency: string;
  total_minor: bigint;
}

/** Σ of every balance per currency. Double entry makes each total exactly zero. */
export async function trialBalance(db: Queryable, tenant_id: string): Promise<CurrencyTotal[]> {
  return db.query<CurrencyTotal & Record<string, unknown>>(
    `SELECT a.currency::text AS currency, coalesce(sum(b.posted_minor), 0)::int8 AS total_minor
       FROM balances b JOIN accounts a ON a.tenant_id = b.tenant_id AND a.id = b.account_id
      WHERE b.tenant_id = $1 GROUP BY a.currency ORDER BY a.currency`,
    [tenant_id],
  );
}

export interface BalanceMismatch {
  account_id: string;
  balance_minor: bigint;
  postings_minor: bigint;
}

/** Accounts whose maintained balance differs from the sum of their postings. Empty when all is well. */
export async function balanceMismatches(db: Queryable, tenant_id: string): Promise<BalanceMismatch[]> {
  return db.query<BalanceMismatch & Record<string, unknown>>(
    `WITH b AS (SELECT account_id, sum(posted_minor)::int8 AS balance_minor FROM balances
                 WHERE tenant_id = $1 GROUP BY account_id),
          p AS (SELECT account_id, sum(amount_minor)::int8 AS postings_minor FROM postings
                 WHERE tenant_id = $1 GROUP BY account_id)
     SELECT b.account_id::text, b.balance_minor, coalesce(p.postings_minor, 0)::int8 AS postings_minor
       FROM b LEFT JOIN p ON p.account_id = b.account_id
      WHERE b.balance_minor <> coalesce(p.postings_minor, 0)`,
    [tenant_id],
  );
}
