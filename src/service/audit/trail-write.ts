import { type ActionInput, insertActions, type WrittenAction } from "../../store/audit-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { enqueueLogRecords } from "../tlog/record-enqueue.ts";

/**
 * Writes trail actions and queues each as an `audit_action` record of the
 * transparency log, in the caller's transaction: an action exists only with
 * its record, and the sequencer gives it a leaf in commit order.
 */
export async function writeActions(
  tx: Queryable,
  tenant_id: string,
  actions: readonly ActionInput[],
  now: Date,
): Promise<WrittenAction[]> {
  const written = await insertActions(tx, tenant_id, actions, now);
  await enqueueLogRecords(
    tx,
    tenant_id,
    written.map((w) => ({
      id: w.id,
      kind: "audit_action" as const,
      record: w.record,
      party_ids: w.party_ids,
    })),
    now,
  );
  return written;
}
