import type { ReversalJson } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { selectHeldByOrder } from "../../store/ledger-reads-sql.ts";

/** Each party's share of a reversal, summed over its legs. */
export function shareByParty(legs: ReversalJson["legs"]): Map<string, bigint> {
  const shares = new Map<string, bigint>();
  for (const leg of legs)
    shares.set(leg.party_id, (shares.get(leg.party_id) ?? 0n) + BigInt(leg.amount_minor));
  return shares;
}

/**
 * What each party still holds of each order, read from the journal: the sum
 * of the postings on its held account made for that order. The ledger is the
 * truth, so a refund that took more than a party's share (a retained PSP fee)
 * can never make a later release overdraw.
 */
export async function heldByOrder(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Map<string, Map<string, bigint>>> {
  const rows = await selectHeldByOrder(tx, tenant_id, order_ids);
  const result = new Map<string, Map<string, bigint>>(order_ids.map((id) => [id, new Map()]));
  for (const row of rows) result.get(row.order_id)!.set(row.party_id, row.held_minor);
  return result;
}
