import type { AllocationJson, ReversalJson } from "../../core/split/index.ts";

/** Each party's share of an order, summed over its legs. */
export function shareByParty(legs: AllocationJson["legs"] | ReversalJson["legs"]): Map<string, bigint> {
  const shares = new Map<string, bigint>();
  for (const leg of legs)
    shares.set(leg.party_id, (shares.get(leg.party_id) ?? 0n) + BigInt(leg.amount_minor));
  return shares;
}

/** What each party still holds of an order before release: its legs minus reversals taken from held. */
export function stillHeld(
  allocation: AllocationJson,
  reversals_before_release: readonly ReversalJson[],
): Map<string, bigint> {
  const held = shareByParty(allocation.legs);
  for (const reversal of reversals_before_release) {
    for (const [party_id, amount_minor] of shareByParty(reversal.legs)) {
      held.set(party_id, (held.get(party_id) ?? 0n) - amount_minor);
    }
  }
  return held;
}
