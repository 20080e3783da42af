import { assert } from "../../core/assert.ts";
import { dispatch_events_per_batch_max } from "../../core/limits.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { latestEventSeq } from "../../store/events-sql.ts";
import {
  type SequencedEventRow,
  selectCursorForUpdate,
  selectEventsAfter,
  upsertCursor,
} from "../../store/notification-cursors-sql.ts";

// The dispatcher's view of the sequenced event stream: a durable cursor per
// (tenant, channel) and the events after it. A channel moves its cursor in the
// same transaction as the rows it makes from the events, so after a crash it
// resumes exactly where its last committed round ended.

export type Channel = "people" | "webhooks";
// The advisory lock's first key: "ClearSplit notifications" (the sequencers use their own).
export const dispatcher_lock_class = 0x0c5e_0e17;

export type SequencedEvent = SequencedEventRow;

/** Takes the tenant's dispatcher lock for this transaction; false when another process leads. */
export async function leadTenant(tx: Queryable, tenant_id: string): Promise<boolean> {
  return tryTransactionLock(tx, dispatcher_lock_class, tenant_id);
}

export function channelCursor(tx: Queryable, tenant_id: string, channel: Channel): Promise<bigint> {
  return selectCursorForUpdate(tx, tenant_id, channel);
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
  await upsertCursor(tx, tenant_id, channel, to_seq, now);
}

export function eventsAfter(
  tx: Queryable,
  tenant_id: string,
  after_seq: bigint,
  limit: number,
): Promise<SequencedEvent[]> {
  assert(limit >= 1 && limit <= dispatch_events_per_batch_max, "dispatch batch out of range");
  return selectEventsAfter(tx, tenant_id, after_seq, limit);
}

export function latestSeq(tx: Queryable, tenant_id: string): Promise<bigint> {
  return latestEventSeq(tx, tenant_id);
}
