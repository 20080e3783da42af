import { assert } from "../../core/assert.ts";
import type { Account, JournalTransaction, TransactionRequest } from "../../core/ledger/types.ts";
import type { Queryable } from "../../store/database.ts";
import {
  applyBalanceDeltas,
  type BalanceDelta,
  type BalanceKey,
  insertPostings,
  lockBalances,
  type PostingRow,
} from "../../store/ledger-sql.ts";

export interface LockedAvailability {
  /** Available balance of every account that a debit in this batch could take below zero. */
  available: Map<string, bigint>;
  /** The bucket each account's delta goes to in this batch. */
  write_bucket: Map<string, number>;
}

/**
 * Locks the balance rows a batch will change. A bucketed (hot) account that is
 * only credited in this batch, or that may go negative anyway, locks one bucket
 * picked at random, so concurrent batches rarely meet on it; a restricted
 * account that is debited locks every bucket, because only the whole balance
 * can say whether the debit fits.
 */
export async function lockAndReadAvailable(
  tx: Queryable,
  tenant_id: string,
  requests: readonly TransactionRequest[],
  accounts: ReadonlyMap<string, Account>,
): Promise<LockedAvailability> {
  const debited = new Set<string>();
  const touched = new Set<string>();
  for (const request of requests) {
    for (const entry of request.entries) {
      touched.add(entry.account_id);
      if (entry.side === "debit" && !accounts.get(entry.account_id)?.allow_negative)
        debited.add(entry.account_id);
    }
  }
  const keys: BalanceKey[] = [];
  const write_bucket = new Map<string, number>();
  const whole = new Set<string>();
  for (const account_id of touched) {
    const account = accounts.get(account_id);
    assert(account !== undefined, `account ${account_id} was not prefetched`);
    if (account.bucket_count === 1 || debited.has(account_id)) {
      whole.add(account_id);
      write_bucket.set(account_id, 0);
      for (let bucket = 0; bucket < account.bucket_count; bucket++) keys.push({ account_id, bucket });
    } else {
      const bucket = Math.floor(Math.random() * account.bucket_count);
      write_bucket.set(account_id, bucket);
      keys.push({ account_id, bucket });
    }
  }
  const rows = await lockBalances(tx, tenant_id, keys);
  assert(rows.length === keys.length, `expected ${keys.length} balance rows, locked ${rows.length}`);
  const available = new Map<string, bigint>();
  for (const row of rows) {
    if (!whole.has(row.account_id)) continue;
    const before = available.get(row.account_id) ?? 0n;
    available.set(row.account_id, before + row.posted_minor - row.pending_out_minor);
  }
  return { available, write_bucket };
}

export async function writePostings(
  tx: Queryable,
  tenant_id: string,
  transactions: readonly JournalTransaction[],
): Promise<void> {
  const rows: PostingRow[] = [];
  for (const transaction of transactions) {
    transaction.entries.forEach((entry, seq) => {
      rows.push({
        transaction_id: transaction.id,
        seq,
        account_id: entry.account_id,
        amount_minor: entry.amount_minor,
        currency: entry.currency,
        effective_at: transaction.effective_at,
      });
    });
  }
  await insertPostings(tx, tenant_id, rows);
}

/** Aggregates every posting of the batch into one delta per balance row. */
export async function writeBalanceDeltas(
  tx: Queryable,
  tenant_id: string,
  transactions: readonly JournalTransaction[],
  accounts: ReadonlyMap<string, Account>,
  write_bucket: ReadonlyMap<string, number>,
): Promise<void> {
  const delta_by_account = new Map<string, bigint>();
  const sum_by_currency = new Map<string, bigint>();
  for (const transaction of transactions) {
    for (const entry of transaction.entries) {
      delta_by_account.set(
        entry.account_id,
        (delta_by_account.get(entry.account_id) ?? 0n) + entry.amount_minor,
      );
      sum_by_currency.set(entry.currency, (sum_by_currency.get(entry.currency) ?? 0n) + entry.amount_minor);
    }
  }
  for (const [currency, sum] of sum_by_currency)
    assert(sum === 0n, `batch does not balance in ${currency}: ${sum}`);
  const deltas: BalanceDelta[] = [];
  for (const [account_id, posted_minor] of delta_by_account) {
    if (posted_minor === 0n) continue;
    const bucket = write_bucket.get(account_id);
    assert(bucket !== undefined && accounts.has(account_id), `no locked bucket for ${account_id}`);
    deltas.push({ account_id, bucket, posted_minor, pending_out_minor: 0n, pending_in_minor: 0n });
  }
  await applyBalanceDeltas(tx, tenant_id, deltas);
}
