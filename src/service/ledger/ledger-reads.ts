import { DomainError } from "../../core/errors.ts";
import { entries_page_size_max } from "../../core/ledger/ledger-limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";
import {
  type AccountEntryRow,
  selectAccountBalance,
  selectAccountEntries,
  selectBalanceMismatches,
  selectPostedAsOf,
  selectTrialBalance,
} from "../../store/ledger-reads-sql.ts";

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
  const row = await selectAccountBalance(db, tenant_id, account_id);
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
  return selectPostedAsOf(db, tenant_id, account_id, as_of);
}

/** One entry of an account, as the entries list shows it: the store's row as it is. */
export type EntryLine = AccountEntryRow;

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
  const rows = await selectAccountEntries(db, tenant_id, account_id, { after, limit: limit + 1 });
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
  return selectTrialBalance(db, tenant_id);
}

export interface BalanceMismatch {
  account_id: string;
  balance_minor: bigint;
  postings_minor: bigint;
}

/** Accounts whose maintained balance differs from the sum of their postings. Empty when all is well. */
export async function balanceMismatches(db: Queryable, tenant_id: string): Promise<BalanceMismatch[]> {
  return selectBalanceMismatches(db, tenant_id);
}
