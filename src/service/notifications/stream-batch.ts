import { assert } from "../../core/assert.ts";
import { dispatch_events_per_batch_max } from "../../core/limits.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { latestEventSeq } from "../../store/events-sql.ts";

// The dispatcher's view of the sequenced event stream: a durable cursor per
// (tenant, channel) and the events after it. A channel moves its cursor in the
// same transaction as the rows it makes from the events, so after a crash it
// resumes exactly where its last committed round ended.

export type Channel = "people" | "webhooks";
// The advisory lock's first key: "ClearSplit notifications" (the sequencers use their own).
export const dispatcher_lock_class = 0x0c5e_0e17;

export type SequencedEvent = {
  seq: bigint;
  id: string;
  type: string;
  party_ids: string[];
  payload: unknown;
  created_at: Date;
};

/** Takes the tenant's dispatcher lock for this transaction; false when another process leads. */
export async function leadTenant(tx: Queryable, tenant_id: string): Promise<boolean> {
  return tryTransactionLock(tx, dispatcher_lock_class, tenant_id);
}

export async function channelCursor(tx: Queryable, tenant_id: string, channel: Channel): Promise<bigint> {
  const [row] = await tx.query<{ last_seq: bigint }>(
    "SELECT last_seq FROM notification_cursors WHERE tenant_id = $1 AND channel = $2 FOR UPDATE",
    [tenant_id, channel],
  );
  return row === undefined ? 0n : BigInt(row.last_seq);
}

export async function moveCursor(
  tx: Queryable,
  tenant_id: string,
  channel: Channel,
  from_seq: bigint,
  to_seq: bigint,
  now: Date,
): Promise<void> {
  assert(to_seq >= from_seq, `channel ${channel} cursor would move back from ${from_seq} to ${to_seq}`);
  if (to_seq === from_seq) return;
  await tx.query(
    `INSERT INTO notification_cursors (tenant_id, channel, last_seq, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, channel) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
    [tenant_id, channel, to_seq, now],
  );
}

export async function eventsAfter(
  tx: Queryable,
  tenant_id: string,
  after_seq: bigint,
  limit: number,
): Promise<SequencedEvent[]> {
  assert(limit >= 1 && limit <= dispatch_events_per_batch_max, "dispatch batch out of range");
  const rows = await tx.query<SequencedEvent>(
    `SELECT s.seq, e.id::text AS id, e.type, e.party_ids, e.payload, e.created_at
       FROM event_seqs s JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
      WHERE s.tenant_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3`,
    [tenant_id, after_seq, limit],
  );
  return rows.map((row) => ({ ...row, seq: BigInt(row.seq) }));
}

export function latestSeq(tx: Queryable, tenant_id: string): Promise<bigint> {
  return latestEventSeq(tx, tenant_id);
}
