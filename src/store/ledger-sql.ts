import type { Account, Entry, JournalTransaction } from "../core/ledger/types.ts";
import type { Queryable } from "./database.ts";
import type { WriteStep } from "./write-set.ts";

// SQL for the journal hot path. Every statement is set-based: one round trip
// per table per batch, whatever the batch size.

interface AccountRow {
  id: string;
  party_id: string;
  purpose: Account["purpose"];
  currency: string;
  allow_negative: boolean;
  bucket_count: number;
  status: Account["status"];
  [key: string]: unknown;
}

export async function selectAccounts(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, Account>> {
  const rows = await tx.query<AccountRow>(
    `SELECT id::text, party_id, purpose, currency::text, allow_negative, bucket_count, status
       FROM accounts WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenant_id, ids],
  );
  return new Map(rows.map((row) => [row.id, { ...row, bucket_count: Number(row.bucket_count) }]));
}

/** The accounts the postings of these transactions touch (by the postings, so it needs no earlier read). */
export async function selectTransactionAccounts(
  tx: Queryable,
  tenant_id: string,
  transaction_ids: readonly string[],
): Promise<Map<string, Account>> {
  const rows = await tx.query<AccountRow>(
    `SELECT id::text, party_id, purpose, currency::text, allow_negative, bucket_count, status
       FROM accounts WHERE tenant_id = $1 AND id IN (
         SELECT p.account_id FROM postings p WHERE p.tenant_id = $1 AND p.transaction_id = ANY($2::uuid[]))`,
    [tenant_id, transaction_ids],
  );
  return new Map(rows.map((row) => [row.id, { ...row, bucket_count: Number(row.bucket_count) }]));
}

export interface ExistingTransaction {
  id: string;
  idempotency_key: string;
  content_hash: string;
}

export async function selectTransactionsByKey(
  tx: Queryable,
  tenant_id: string,
  keys: readonly string[],
): Promise<Map<string, ExistingTransaction>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.query<ExistingTransaction & Record<string, unknown>>(
    // One probe of the (tenant_id, idempotency_key) index per key whatever the
    // statistics say, as the order lookup (decisions §13, §42): with
    // `idempotency_key = ANY($2)` a tenant the statistics put at one row is
    // scanned whole through the primary key, each row against the whole array.
    `SELECT t.id::text AS id, t.idempotency_key, t.content_hash FROM unnest($2::text[]) AS k(key)
      CROSS JOIN LATERAL (SELECT id, idempotency_key, content_hash FROM journal_transactions
                           WHERE tenant_id = $1 AND idempotency_key = k.key LIMIT 1) AS t`,
    [tenant_id, keys],
  );
  return new Map(rows.map((row) => [row.idempotency_key, row]));
}

/** The idempotency key the transaction was booked under; undefined when there is no such transaction. */
export async function selectTransactionKey(
  tx: Queryable,
  tenant_id: string,
  transaction_id: string | null,
): Promise<string | undefined> {
  const rows = await tx.query<{ idempotency_key: string }>(
    "SELECT idempotency_key FROM journal_transactions WHERE tenant_id = $1 AND id = $2",
    [tenant_id, transaction_id],
  );
  return rows[0]?.idempotency_key;
}

export interface BalanceKey {
  account_id: string;
  bucket: number;
}

export interface LockedBalance extends BalanceKey {
  posted_minor: bigint;
  pending_out_minor: bigint;
}

/**
 * Locks balance rows in one global order (account id, bucket) so concurrent
 * batches cannot deadlock on each other, and returns what they hold.
 */
export async function lockBalances(
  tx: Queryable,
  tenant_id: string,
  keys: readonly BalanceKey[],
): Promise<LockedBalance[]> {
  if (keys.length === 0) return [];
  const rows = await tx.query<LockedBalance & Record<string, unknown>>(
    `SELECT b.account_id::text AS account_id, b.bucket, b.posted_minor, b.pending_out_minor
       FROM balances b
       JOIN unnest($2::uuid[], $3::int2[]) AS k(account_id, bucket)
         ON b.account_id = k.account_id AND b.bucket = k.bucket
      WHERE b.tenant_id = $1
      ORDER BY b.account_id, b.bucket
        FOR UPDATE OF b`,
    [tenant_id, keys.map((key) => key.account_id), keys.map((key) => key.bucket)],
  );
  return rows.map((row) => ({ ...row, bucket: Number(row.bucket) }));
}

export interface JournalRow {
  id: string;
  kind: string;
  idempotency_key: string;
  content_hash: string;
  effective_at: Date;
  recorded_at: Date;
  order_id: string | null;
  event_id: string | null;
  policy_hash: string | null;
  hold_id: string | null;
  memo: string | null;
}

/**
 * Inserts journal rows. A key a concurrent writer took since we looked is
 * skipped by the insert, and the expected count catches it (RetryTransaction).
 */
export function journalRowsStep(tenant_id: string, rows: readonly JournalRow[]): WriteStep | null {
  if (rows.length === 0) return null;
  return {
    ctes: [
      [
        "journal_rows",
        `INSERT INTO journal_transactions
           (tenant_id, id, kind, idempotency_key, content_hash, effective_at, recorded_at,
            order_id, event_id, policy_hash, hold_id, memo)
         SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
                                  $8::text[], $9::text[], $10::text[], $11::uuid[], $12::text[])
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
         RETURNING 1`,
      ],
    ],
    params: [
      tenant_id,
      rows.map((row) => row.id),
      rows.map((row) => row.kind),
      rows.map((row) => row.idempotency_key),
      rows.map((row) => row.content_hash),
      rows.map((row) => row.effective_at),
      rows.map((row) => row.recorded_at),
      rows.map((row) => row.order_id),
      rows.map((row) => row.event_id),
      rows.map((row) => row.policy_hash),
      rows.map((row) => row.hold_id),
      rows.map((row) => row.memo),
    ],
    expect: { rows: rows.length, retry: "an idempotency key was taken concurrently" },
  };
}

export interface PostingRow {
  transaction_id: string;
  seq: number;
  account_id: string;
  amount_minor: bigint;
  currency: string;
  effective_at: Date;
}

export function postingsStep(tenant_id: string, rows: readonly PostingRow[]): WriteStep | null {
  if (rows.length === 0) return null;
  return {
    ctes: [
      [
        "posting_rows",
        `INSERT INTO postings (tenant_id, transaction_id, seq, account_id, amount_minor, currency, effective_at)
         SELECT $1, * FROM unnest($2::uuid[], $3::int2[], $4::uuid[], $5::int8[], $6::text[], $7::timestamptz[])
         RETURNING 1`,
      ],
    ],
    params: [
      tenant_id,
      rows.map((row) => row.transaction_id),
      rows.map((row) => row.seq),
      rows.map((row) => row.account_id),
      rows.map((row) => row.amount_minor),
      rows.map((row) => row.currency),
      rows.map((row) => row.effective_at),
    ],
  };
}

export interface BalanceDelta extends BalanceKey {
  posted_minor: bigint;
  pending_out_minor: bigint;
  pending_in_minor: bigint;
}

/** Applies aggregated deltas: one row per (account, bucket) per batch. */
export async function applyBalanceDeltas(
  tx: Queryable,
  tenant_id: string,
  deltas: readonly BalanceDelta[],
): Promise<void> {
  if (deltas.length === 0) return;
  await tx.query(
    `UPDATE balances b
        SET posted_minor = b.posted_minor + d.posted_minor,
            pending_out_minor = b.pending_out_minor + d.pending_out_minor,
            pending_in_minor = b.pending_in_minor + d.pending_in_minor
       FROM unnest($2::uuid[], $3::int2[], $4::int8[], $5::int8[], $6::int8[])
            AS d(account_id, bucket, posted_minor, pending_out_minor, pending_in_minor)
      WHERE b.tenant_id = $1 AND b.account_id = d.account_id AND b.bucket = d.bucket`,
    [tenant_id, ...deltaColumns(deltas)],
  );
}

/** The unnest columns of a delta list: account, bucket, posted, pending out, pending in. */
function deltaColumns(deltas: readonly BalanceDelta[]): unknown[][] {
  return [
    deltas.map((delta) => delta.account_id),
    deltas.map((delta) => delta.bucket),
    deltas.map((delta) => delta.posted_minor),
    deltas.map((delta) => delta.pending_out_minor),
    deltas.map((delta) => delta.pending_in_minor),
  ];
}

/**
 * Locks every delta's balance row in the global order (account id, bucket),
 * then applies the deltas. The uncorrelated count is an InitPlan, so all the
 * locks are taken, in order, before the first row is updated. Rows this
 * transaction locked earlier lock again for free. Every row must exist: the
 * expected count of updated rows is asserted, not retried.
 */
export function balanceDeltasStep(tenant_id: string, deltas: readonly BalanceDelta[]): WriteStep | null {
  if (deltas.length === 0) return null;
  return {
    ctes: [
      [
        "delta_rows",
        `SELECT * FROM unnest($2::uuid[], $3::int2[], $4::int8[], $5::int8[], $6::int8[])
                  AS d(account_id, bucket, posted_minor, pending_out_minor, pending_in_minor)`,
        "materialized",
      ],
      [
        "delta_locks",
        `SELECT b.account_id FROM balances b JOIN delta_rows d ON b.account_id = d.account_id AND b.bucket = d.bucket
          WHERE b.tenant_id = $1
          ORDER BY b.account_id, b.bucket
            FOR UPDATE OF b`,
        "materialized",
      ],
      [
        "delta_applied",
        `UPDATE balances b
            SET posted_minor = b.posted_minor + d.posted_minor,
                pending_out_minor = b.pending_out_minor + d.pending_out_minor,
                pending_in_minor = b.pending_in_minor + d.pending_in_minor
           FROM delta_rows d
          WHERE b.tenant_id = $1 AND b.account_id = d.account_id AND b.bucket = d.bucket
            AND (SELECT count(*) FROM delta_locks) = $7::int8
         RETURNING 1`,
      ],
    ],
    params: [tenant_id, ...deltaColumns(deltas), deltas.length],
    expect: { rows: deltas.length },
    sharded: [
      {
        ctes: [
          [
            "delta_locked",
            `SELECT b.account_id FROM balances b
               JOIN unnest($2::uuid[], $3::int2[]) AS d(account_id, bucket)
                 ON b.account_id = d.account_id AND b.bucket = d.bucket
              WHERE b.tenant_id = $1
              ORDER BY b.account_id, b.bucket
                FOR UPDATE OF b`,
          ],
        ],
        params: [tenant_id, deltas.map((delta) => delta.account_id), deltas.map((delta) => delta.bucket)],
        expect: { rows: deltas.length },
      },
      {
        ctes: [
          [
            "delta_applied",
            `UPDATE balances b
                SET posted_minor = b.posted_minor + d.posted_minor,
                    pending_out_minor = b.pending_out_minor + d.pending_out_minor,
                    pending_in_minor = b.pending_in_minor + d.pending_in_minor
               FROM unnest($2::uuid[], $3::int2[], $4::int8[], $5::int8[], $6::int8[])
                    AS d(account_id, bucket, posted_minor, pending_out_minor, pending_in_minor)
              WHERE b.tenant_id = $1 AND b.account_id = d.account_id AND b.bucket = d.bucket
             RETURNING 1`,
          ],
        ],
        params: [tenant_id, ...deltaColumns(deltas)],
        expect: { rows: deltas.length },
      },
    ],
  };
}

type TransactionRow = JournalRow & Record<string, unknown>;
type EntryRow = Entry & { transaction_id: string; seq: number } & Record<string, unknown>;

/** Loads whole transactions (with entries) by id, in the order asked. */
export async function selectTransactions(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, JournalTransaction>> {
  if (ids.length === 0) return new Map();
  // Both at once: two round trips' latency become one (a pool runs them side by side, a transaction pipelines them).
  const [headers, entries] = await Promise.all([
    tx.query<TransactionRow>(
      `SELECT id::text, kind, idempotency_key, content_hash, effective_at, recorded_at, order_id, event_id,
              policy_hash, hold_id::text, memo
         FROM journal_transactions WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenant_id, ids],
    ),
    tx.query<EntryRow>(
      `SELECT transaction_id::text, seq, account_id::text, amount_minor, currency::text
         FROM postings WHERE tenant_id = $1 AND transaction_id = ANY($2::uuid[])
        ORDER BY transaction_id, seq`,
      [tenant_id, ids],
    ),
  ]);
  const result = new Map<string, JournalTransaction>();
  for (const header of headers) {
    const { content_hash: _content_hash, ...rest } = header;
    result.set(header.id, { ...(rest as unknown as JournalTransaction), entries: [] });
  }
  for (const row of entries) {
    result.get(row.transaction_id)?.entries.push({
      account_id: row.account_id,
      amount_minor: row.amount_minor,
      currency: row.currency,
    });
  }
  return result;
}

interface OwnedEntryJson {
  account_id: string;
  amount_minor: string;
  currency: string;
  party_id: string | null;
  purpose: string | null;
}

/** The owner of each account an entry touches, as a journal record names it. */
export type AccountOwner = Pick<Account, "party_id" | "purpose">;

/**
 * One transaction with its entries and the owner of each entry's account, in
 * one query: what a single record's proof bundle rebuilds from (the batch
 * rebuild of the audit uses selectTransactions and selectTransactionAccounts).
 * An account row that is gone has no owner in the map.
 */
export async function selectTransactionWithOwners(
  tx: Queryable,
  tenant_id: string,
  id: string,
): Promise<{ transaction: JournalTransaction; owners: Map<string, AccountOwner> } | undefined> {
  const [row] = await tx.query<
    Omit<TransactionRow, "content_hash"> & {
      entries: string | OwnedEntryJson[] | null;
    }
  >(
    `SELECT t.id::text, t.kind, t.idempotency_key, t.effective_at, t.recorded_at, t.order_id, t.event_id,
            t.policy_hash, t.hold_id::text, t.memo,
            (SELECT json_agg(json_build_object('account_id', p.account_id::text, 'amount_minor', p.amount_minor::text,
                                               'currency', p.currency::text, 'party_id', a.party_id, 'purpose', a.purpose)
                             ORDER BY p.seq)
               FROM postings p LEFT JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
              WHERE p.tenant_id = t.tenant_id AND p.transaction_id = t.id) AS entries
       FROM journal_transactions t WHERE t.tenant_id = $1 AND t.id = $2::uuid`,
    [tenant_id, id],
  );
  if (row === undefined) return undefined;
  const { entries: json, ...header } = row;
  const entries: OwnedEntryJson[] = (typeof json === "string" ? JSON.parse(json) : json) ?? [];
  const owners = new Map<string, AccountOwner>();
  for (const entry of entries) {
    if (entry.party_id !== null && entry.purpose !== null)
      owners.set(entry.account_id, {
        party_id: entry.party_id,
        purpose: entry.purpose as Account["purpose"],
      });
  }
  const transaction = {
    ...(header as unknown as JournalTransaction),
    entries: entries.map((entry) => ({
      account_id: entry.account_id,
      amount_minor: BigInt(entry.amount_minor),
      currency: entry.currency,
    })),
  };
  return { transaction, owners };
}

/** Whether the journal transaction `id` (a uuid) belongs to the order. */
export async function transactionOfOrderExists(
  tx: Queryable,
  tenant_id: string,
  id: string,
  order_id: string,
): Promise<boolean> {
  const rows = await tx.query(
    "SELECT 1 FROM journal_transactions WHERE tenant_id = $1 AND id = $2::uuid AND order_id = $3",
    [tenant_id, id, order_id],
  );
  return rows.length > 0;
}
