import { assert } from "../../core/assert.ts";
import type { ReadScope } from "../../core/auth/scope.ts";
import type { Database } from "../../store/database.ts";
import {
  latestEventSeq as latestStoredEventSeq,
  type StreamEventRow,
  selectSequencedEventsFor,
} from "../../store/events-sql.ts";
import { withReadScope } from "../../store/scoped.ts";

export type StreamEvent = StreamEventRow;

export const events_page_max = 500;

/**
 * Sequenced events after `after_seq` that the scope may see, in seq order.
 * Runs under row-level security: a merchant's scope cannot return an event
 * whose party_ids lack its party, whatever this query says.
 */
export async function readEventsAfter(
  db: Database,
  scope: ReadScope,
  after_seq: bigint,
  limit: number,
  /** Inbox pushes (`inbox.*`) go to their own user only; null (an API key) sees none. */
  user_id: string | null = null,
): Promise<StreamEvent[]> {
  assert(limit >= 1 && limit <= events_page_max, "events page size out of range");
  assert(after_seq >= 0n, "after_seq is negative");
  return withReadScope(db, scope, (tx) =>
    selectSequencedEventsFor(tx, scope.tenant_id, { after_seq, party_id: scope.party_id, user_id, limit }),
  );
}

/** The highest seq the tenant has, 0 when none: where a new stream without Last-Event-ID starts. */
export async function latestEventSeq(db: Database, tenant_id: string): Promise<bigint> {
  return latestStoredEventSeq(db, tenant_id);
}
