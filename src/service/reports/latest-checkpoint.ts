import type { CheckpointRef } from "../../core/reports/statement-fold.ts";
import type { Queryable } from "../../store/database.ts";

export interface LatestCheckpoint {
  ref: CheckpointRef;
  /** The signed note exactly as the log signed it. */
  note: string;
}

/** The tenant's latest signed checkpoint, or null before the log's first round. */
export async function latestCheckpoint(tx: Queryable, tenant_id: string): Promise<LatestCheckpoint | null> {
  const [row] = await tx.query<{ size: bigint; root: Uint8Array; note: string }>(
    "SELECT size, root, note FROM log_checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1",
    [tenant_id],
  );
  if (row === undefined) return null;
  const origin = row.note.slice(0, row.note.indexOf("\n"));
  return {
    ref: { origin, size: Number(row.size), root: Buffer.from(row.root).toString("base64") },
    note: row.note,
  };
}

/** Journal transactions of this party that the checkpoint does not cover (logged after it, or not yet). */
export async function partyTransactionsAfter(
  tx: Queryable,
  tenant_id: string,
  party_id: string,
  size: number,
): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `WITH last AS (
       SELECT r.xid, r.id FROM log_leaves l JOIN log_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id
        WHERE l.tenant_id = $1 AND l.leaf_index = $3::int8 - 1)
     SELECT count(*) AS count FROM log_records r
      WHERE r.tenant_id = $1 AND r.kind = 'journal_transaction' AND r.party_ids @> ARRAY[$2::text]
        AND (NOT EXISTS (SELECT 1 FROM last) OR (r.xid, r.id) > (SELECT xid, id FROM last))`,
    [tenant_id, party_id, size],
  );
  return Number(row?.count ?? 0);
}
