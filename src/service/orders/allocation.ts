import { assert } from "../../core/assert.ts";
import { type AllocationJson, allocate, allocationToJson, parseOrder } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { publishedPolicies } from "./policy-resolver.ts";
import type { OrderRow } from "./view.ts";

// An order row keeps its facts and its policy's hash, not its allocation: the
// allocation engine is deterministic, so the split with every leg's note is
// recomputed exactly when it is asked for. Booking therefore writes about a
// quarter of the bytes it used to (decision 9), and each explanation shown is
// re-derived from the facts on every read rather than trusted from storage.
// The booked amounts themselves live in the journal, and the bench and the
// tests check that the recomputed legs match them.

export type AllocationOf = (
  row: Pick<OrderRow, "id" | "facts" | "policy_hash" | "paid_minor" | "referrers_unknown">,
) => AllocationJson;

/** Loads the policies these rows were booked under and returns a function that recomputes each split. */
export async function allocationsFor(
  tx: Queryable,
  tenant_id: string,
  rows: readonly Pick<OrderRow, "policy_hash">[],
): Promise<AllocationOf> {
  const policyOf = await publishedPolicies(
    tx,
    tenant_id,
    rows.map((row) => row.policy_hash),
  );
  return (row) => {
    const { policy, policy_hash } = policyOf(row.policy_hash);
    const allocation = allocate(policy, parseOrder(row.facts, "stored"), {
      policy_hash,
      ...(row.referrers_unknown === null ? {} : { unknown_referrers: row.referrers_unknown }),
    });
    let total_minor = 0n;
    for (const leg of allocation.legs) total_minor += leg.amount_minor;
    assert(
      allocation.order_id === row.id && total_minor === row.paid_minor,
      `order ${row.id} recomputes to legs of ${total_minor}, not its ${row.paid_minor} paid`,
    );
    return allocationToJson(allocation);
  };
}

/** Every party with a leg in the split, sorted: who may see the order's events. */
export function legPartyIds(allocation: { legs: readonly { party_id: string }[] }): string[] {
  return [...new Set(allocation.legs.map((leg) => leg.party_id))].sort();
}
