import { expect } from "vitest";
import { balanceMismatches, trialBalance } from "../service/ledger/ledger-reads.ts";
import type { Queryable } from "../store/database.ts";

/** The ledger's invariants, checked after every step of every ledger test. */
export async function expectLedgerInvariants(db: Queryable, tenant_id: string): Promise<void> {
  for (const total of await trialBalance(db, tenant_id)) {
    expect(total.total_minor, `trial balance in ${total.currency}`).toBe(0n);
  }
  expect(await balanceMismatches(db, tenant_id)).toEqual([]);
  const negative = await db.query(
    `SELECT a.id FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
      WHERE a.tenant_id = $1 AND NOT a.allow_negative
      GROUP BY a.id HAVING sum(b.posted_minor) - sum(b.pending_out_minor) < 0`,
    [tenant_id],
  );
  expect(negative, "restricted accounts below zero").toEqual([]);
}

export async function countJournal(
  db: Queryable,
  tenant_id: string,
): Promise<{ transactions: bigint; postings: bigint; holds: bigint }> {
  const [row] = await db.query<{ transactions: bigint; postings: bigint; holds: bigint }>(
    `SELECT (SELECT count(*) FROM journal_transactions WHERE tenant_id = $1)::int8 AS transactions,
            (SELECT count(*) FROM postings WHERE tenant_id = $1)::int8 AS postings,
            (SELECT count(*) FROM holds WHERE tenant_id = $1)::int8 AS holds`,
    [tenant_id],
  );
  return row!;
}
