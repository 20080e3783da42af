import type { CheckpointRef } from "../../core/reports/statement-fold.ts";
import type { Queryable } from "../../store/database.ts";
import { latestCheckpoint as latestCheckpointRow } from "../../store/log-tree-sql.ts";

export interface LatestCheckpoint {
  ref: CheckpointRef;
  /** The signed note exactly as the log signed it. */
  note: string;
}

/** The tenant's latest signed checkpoint, or null before the log's first round. */
export async function latestCheckpoint(tx: Queryable, tenant_id: string): Promise<LatestCheckpoint | null> {
  const row = await latestCheckpointRow(tx, tenant_id);
  if (row === undefined) return null;
  const origin = row.note.slice(0, row.note.indexOf("\n"));
  return {
    ref: { origin, size: Number(row.size), root: Buffer.from(row.root).toString("base64") },
    note: row.note,
  };
}

export { partyTransactionsAfter } from "../../store/log-records-sql.ts";
