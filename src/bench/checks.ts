import { isSubsidyLeg } from "../core/split/subsidy.ts";
import { balanceMismatches, trialBalance } from "../service/ledger/ledger-reads.ts";
import { allocationsFor } from "../service/orders/allocation.ts";
import { type OrderRow, order_columns } from "../service/orders/view.ts";
import type { Queryable } from "../store/database.ts";

// What the bench proves after every scenario, whatever the speed: the books of
// the scenario's tenant balance, every balance equals its postings, every
// order's split recomputed from its facts and policy sums to its amount paid
// and credits each party exactly what its journal transaction credited, and
// every order's split transaction credits exactly the amount paid. Any
// problem fails the bench.

const orders_per_page = 2_000;

/**
 * Ids of orders whose recomputed allocation, summed per party, is not what the
 * journal booked; all the tenant's orders, or only `order_ids` (the simulation
 * checks each order once, after it is booked).
 */
export async function allocationsDifferingFromJournal(
  db: Queryable,
  tenant_id: string,
  order_ids?: readonly string[],
): Promise<string[]> {
  const differing: string[] = [];
  let after = "";
  for (;;) {
    const rows = await db.query<
      OrderRow & { credits: Record<string, string> | null } & Record<string, unknown>
    >(
      `SELECT ${order_columns},
              (SELECT jsonb_object_agg(c.party_id, c.amount_minor::text)
                 FROM (SELECT a.party_id, sum(p.amount_minor) AS amount_minor
                         FROM postings p JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
                        WHERE p.tenant_id = o.tenant_id AND p.transaction_id = o.transaction_id AND p.amount_minor > 0
                        GROUP BY a.party_id) AS c) AS credits
         FROM orders o WHERE o.tenant_id = $1 AND o.id > $2 ${order_ids === undefined ? "" : "AND o.id = ANY($4::text[])"}
        ORDER BY o.id LIMIT $3`,
      // Two texts rather than `$4 IS NULL OR …`: only the plain `= ANY` is an index condition, so a
      // list of orders is looked up rather than every later order scanned (the simulation's checks).
      order_ids === undefined
        ? [tenant_id, after, orders_per_page]
        : [tenant_id, after, orders_per_page, [...order_ids]],
    );
    if (rows.length === 0) return differing;
    const allocationOf = await allocationsFor(db, tenant_id, rows);
    for (const row of rows) {
      const by_party = new Map<string, bigint>();
      // The platform's subsidy is booked from its expense account, not as a credit (docs/splits.md).
      for (const leg of allocationOf(row).legs.filter((leg) => !isSubsidyLeg(leg)))
        by_party.set(leg.party_id, (by_party.get(leg.party_id) ?? 0n) + BigInt(leg.amount_minor));
      const booked = Object.entries(row.credits ?? {});
      const same =
        booked.length === [...by_party.values()].filter((amount) => amount > 0n).length &&
        booked.every(([party_id, amount]) => by_party.get(party_id) === BigInt(amount));
      if (!same) differing.push(row.id);
    }
    after = rows[rows.length - 1]!.id;
  }
}

export async function ledgerProblems(db: Queryable, tenant_id: string): Promise<string[]> {
  const problems: string[] = [];
  for (const total of await trialBalance(db, tenant_id)) {
    if (total.total_minor !== 0n)
      problems.push(`trial balance in ${total.currency} is ${total.total_minor}, not 0`);
  }
  const mismatches = await balanceMismatches(db, tenant_id);
  if (mismatches.length > 0)
    problems.push(`${mismatches.length} balances differ from the sum of their postings`);
  const differing = await allocationsDifferingFromJournal(db, tenant_id);
  if (differing.length > 0)
    problems.push(
      `${differing.length} orders whose recomputed legs differ from their journal, e.g. ${differing.slice(0, 3).join(", ")}`,
    );
  const [journal] = await db.query<{ count: bigint }>(
    `SELECT count(*)::int8 AS count FROM orders o
      WHERE o.tenant_id = $1
        AND o.paid_minor <> (SELECT coalesce(-sum(p.amount_minor), 0) FROM postings p
                               JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
                              WHERE p.tenant_id = o.tenant_id AND p.transaction_id = o.transaction_id
                                AND a.purpose = 'clearing')`,
    [tenant_id],
  );
  if (journal!.count !== 0n)
    problems.push(
      `${journal!.count} orders whose split transaction does not take the amount paid from clearing`,
    );
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
