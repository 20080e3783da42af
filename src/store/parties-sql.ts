import type { PartyKind } from "../core/ledger/types.ts";
import type { Queryable } from "./database.ts";

// The one home of the `parties` table's read queries. Run them on a scoped
// handle (store/scoped.ts) for a caller's reads: row-level security then
// confines them to the caller's party even if a filter is forgotten.

export interface PartyRow {
  id: string;
  kind: PartyKind;
  name: string;
  parent_id: string | null;
  settlement: Record<string, unknown>;
  created_at: Date;
}

const party_columns = "id, kind, name, parent_id, settlement, created_at";

export async function selectPartyRow(
  tx: Queryable,
  tenant_id: string,
  id: string,
): Promise<PartyRow | undefined> {
  const rows = await tx.query<PartyRow & Record<string, unknown>>(
    `SELECT ${party_columns} FROM parties WHERE tenant_id = $1 AND id = $2`,
    [tenant_id, id],
  );
  return rows[0];
}

/** Parties by id after `after_id`, `limit` rows; `party_id` narrows to one party. */
export async function selectPartyRows(
  tx: Queryable,
  tenant_id: string,
  filter: { party_id: string | null; kind: string | null; after_id: string | null; limit: number },
): Promise<PartyRow[]> {
  return tx.query<PartyRow & Record<string, unknown>>(
    `SELECT ${party_columns} FROM parties
      WHERE tenant_id = $1 AND ($2::text IS NULL OR id = $2) AND ($3::text IS NULL OR kind = $3)
        AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5`,
    [tenant_id, filter.party_id, filter.kind, filter.after_id, filter.limit],
  );
}
