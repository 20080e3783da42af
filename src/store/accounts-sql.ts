import type { Account } from "../core/ledger/types.ts";
import type { Queryable } from "./database.ts";

// The one home of the queries that open and close accounts and their balance
// rows (decisions §29). The journal's own account reads are in ledger-sql.ts.

/** The accounts with these (party, purpose, currency) triples, in no order. */
export async function selectAccountsByTriple(
  tx: Queryable,
  tenant_id: string,
  triples: readonly { party_id: string; purpose: string; currency: string }[],
): Promise<Account[]> {
  const rows = await tx.query<Account & Record<string, unknown>>(
    `SELECT a.id::text, a.party_id, a.purpose, a.currency::text, a.allow_negative, a.bucket_count, a.status
       FROM accounts a
       JOIN unnest($2::text[], $3::text[], $4::text[]) AS s(party_id, purpose, currency)
         ON a.party_id = s.party_id AND a.purpose = s.purpose AND a.currency = s.currency
      WHERE a.tenant_id = $1`,
    [
      tenant_id,
      triples.map((triple) => triple.party_id),
      triples.map((triple) => triple.purpose),
      triples.map((triple) => triple.currency),
    ],
  );
  return rows.map((row) => ({ ...row, bucket_count: Number(row.bucket_count) }));
}

export interface NewAccountRow {
  id: string;
  party_id: string;
  purpose: string;
  currency: string;
  allow_negative: boolean;
  bucket_count: number;
}

/**
 * Inserts the accounts (a lost race on (party, purpose, currency) inserts nothing)
 * and the balance rows of those this statement created, found by the ids we made.
 */
export async function insertAccountsWithBalances(
  tx: Queryable,
  tenant_id: string,
  accounts: readonly NewAccountRow[],
  now: Date,
): Promise<void> {
  const ids = accounts.map((account) => account.id);
  await tx.query(
    `INSERT INTO accounts (tenant_id, id, party_id, purpose, currency, allow_negative, bucket_count, created_at)
     SELECT $1, * , $8::timestamptz FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[]::bool[], $7::int2[])
     ON CONFLICT (tenant_id, party_id, purpose, currency) DO NOTHING`,
    [
      tenant_id,
      ids,
      accounts.map((account) => account.party_id),
      accounts.map((account) => account.purpose),
      accounts.map((account) => account.currency),
      accounts.map((account) => account.allow_negative),
      accounts.map((account) => account.bucket_count),
      now,
    ],
  );
  await tx.query(
    `INSERT INTO balances (tenant_id, account_id, bucket, floor_enforced)
     SELECT a.tenant_id, a.id, g.bucket, NOT a.allow_negative AND a.bucket_count = 1 FROM accounts a
       CROSS JOIN LATERAL generate_series(0, a.bucket_count - 1) AS g(bucket)
      WHERE a.tenant_id = $1 AND a.id = ANY($2::uuid[])
     ON CONFLICT DO NOTHING`,
    [tenant_id, ids],
  );
}

export async function closeAccountRow(tx: Queryable, tenant_id: string, account_id: string): Promise<void> {
  await tx.query("UPDATE accounts SET status = 'closed' WHERE tenant_id = $1 AND id = $2", [
    tenant_id,
    account_id,
  ]);
}
