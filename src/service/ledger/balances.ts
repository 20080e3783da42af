import { randomInt } from "node:crypto";
import { assert } from "../../core/assert.ts";
import type { Account, JournalTransaction, TransactionRequest } from "../../core/ledger/types.ts";
import type { Queryable } from "../../store/database.ts";
import {
  type BalanceDelta,
  type BalanceKey,
  balanceDeltasStep,
  lockBalances,
  type PostingRow,
  postingsStep,
} from "../../store/ledger-sql.ts";
import type { WriteStep } from "../../store/write-set.ts";

export interface LockedAvailability {
  /** Available balance of every restricted account a debit in this batch could take below zero. */
  available: Map<string, bigint>;
  /** The bucket each account's delta goes to in this batch. */
  write_bucket: Map<string, number>;
}

/**
 * Decides which balance rows a batch locks before it decides, and where each
 * account's delta goes. Only a restricted account that the batch debits needs
 * its balance read under lock, and then every bucket of it, because only the
 * whole balance says whether the debit fits. Every other account (credited
 * only, or allowed below zero) is updated at the end of the batch, so its row
 * lock is held only from there to commit; all of them use one bucket index
 * chosen at random per batch, so two concurrent batches meet on a bucketed
 * account with probability 1/bucket_count.
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
      if (entry.side === "debit" && entry.covered !== true && !accounts.get(entry.account_id)?.allow_negative)
        debited.add(entry.account_id);
    }
  }
  // One index per batch, taken modulo each account's bucket count (bias < 2^-24).
  const batch_bucket = randomInt(2 ** 30);
  const keys: BalanceKey[] = [];
  const write_bucket = new Map<string, number>();
  for (const account_id of touched) {
    const account = accounts.get(account_id);
    assert(account !== undefined, `account ${account_id} was not prefetched`);
    if (debited.has(account_id)) {
      write_bucket.set(account_id, 0);
      for (let bucket = 0; bucket < account.bucket_count; bucket++) keys.push({ account_id, bucket });
    } else {
      write_bucket.set(account_id, batch_bucket % account.bucket_count);
    }
  }
  const rows = await lockBalances(tx, tenant_id, keys);
  assert(rows.length === keys.length, `expected ${keys.length} balance rows, locked ${rows.length}`);
  const available = new Map<string, bigint>();
  for (const row of rows) {
    const before = available.get(row.account_id) ?? 0n;
    available.set(row.account_id, before + row.posted_minor - row.pending_out_minor);
  }
  return { available, write_bucket };
}

/** The postings of these transactions, one row per entry. */
export function postingsWrite(
  tenant_id: string,
  transactions: readonly JournalTransaction[],
): WriteStep | null {
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
  return postingsStep(tenant_id, rows);
}

/**
 * Aggregates every posting of the batch into one delta per balance row, to
 * be applied by the batch's write. Rows not locked up front are locked then,
 * in the same global order, so their locks are held only from there to commit.
 */
export function balanceDeltasWrite(
  tenant_id: string,
  transactions: readonly JournalTransaction[],
  locked: LockedAvailability,
): WriteStep | null {
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
    const bucket = locked.write_bucket.get(account_id);
    assert(bucket !== undefined, `no bucket chosen for ${account_id}`);
    deltas.push({ account_id, bucket, posted_minor, pending_out_minor: 0n, pending_in_minor: 0n });
  }
  return balanceDeltasStep(tenant_id, deltas);
}
