import type { WriteStep } from "./write-set.ts";

// The one home of `order_parties` writes: the index of orders by a party that
// needs one (decisions §11).

/** Indexes each (party, order) pair, as one step of a combined write (store/write-set.ts). */
export function orderPartyRowsStep(
  tenant_id: string,
  pairs: readonly (readonly [party_id: string, order_id: string])[],
): WriteStep | null {
  if (pairs.length === 0) return null;
  return {
    ctes: [
      [
        "order_party_rows",
        // A concurrent writer of the same order makes order_rows count
        // short (a retry that replays it); this row must not fail first.
        `INSERT INTO order_parties (tenant_id, party_id, order_id)
         SELECT $1, p.party_id, p.order_id FROM unnest($2::text[], $3::text[]) AS p(party_id, order_id)
         ON CONFLICT (tenant_id, party_id, order_id) DO NOTHING
         RETURNING 1`,
      ],
    ],
    params: [tenant_id, pairs.map(([party_id]) => party_id), pairs.map(([, order_id]) => order_id)],
  };
}
