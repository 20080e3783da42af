import { balanceMismatches, trialBalance } from "../service/ledger/read.ts";
import type { Queryable } from "../store/database.ts";

// What the bench proves after every scenario, whatever the speed: the books of
// the scenario's tenant balance, every balance equals its postings, every
// stored allocation sums to the order's amount paid, and every order's split
// transaction credits exactly that amount. Any problem fails the bench.

export async function ledgerProblems(db: Queryable, tenant_id: string): Promise<string[]> {
  const problems: string[] = [];
  for (const total of await trialBalance(db, tenant_id)) {
    if (total.total_minor !== 0n)
      problems.push(`trial balance in ${total.currency} is ${total.total_minor}, not 0`);
  }
  const mismatches = await balanceMismatches(db, tenant_id);
  if (mismatches.length > 0)
    problems.push(`${mismatches.length} balances differ from the sum of their postings`);
  const [legs] = await db.query<{ count: bigint }>(
    `SELECT count(*)::int8 AS count FROM orders o
      WHERE o.tenant_id = $1
        AND o.paid_minor <> (SELECT coalesce(sum((leg ->> 'amount_minor')::int8), 0)
                               FROM jsonb_array_elements(o.allocation -> 'legs') AS leg)`,
    [tenant_id],
  );
  if (legs!.count !== 0n) problems.push(`${legs!.count} orders whose legs do not sum to the amount paid`);
  const [journal] = await db.query<{ count: bigint }>(
    `SELECT count(*)::int8 AS count FROM orders o
      WHERE o.tenant_id = $1
        AND o.paid_minor <> (SELECT coalesce(sum(p.amount_minor), 0) FROM postings p
                              WHERE p.tenant_id = o.tenant_id AND p.transaction_id = o.transaction_id
                                AND p.amount_minor > 0)`,
    [tenant_id],
  );
  if (journal!.count !== 0n)
    problems.push(`${journal!.count} orders whose split transaction does not credit the amount paid`);
  return problems;
}

export async function countBooked(
  db: Queryable,
  tenant_id: string,
): Promise<{ orders: bigint; postings: bigint }> {
  const [row] = await db.query<{ orders: bigint; postings: bigint }>(
    `SELECT (SELECT count(*) FROM orders WHERE tenant_id = $1)::int8 AS orders,
            (SELECT count(*) FROM postings WHERE tenant_id = $1)::int8 AS postings`,
    [tenant_id],
  );
  return row!;
}
