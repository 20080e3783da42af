import { assert } from "../../core/assert.ts";
import type { ReadScope } from "../../core/auth/scope.ts";
import type { Database } from "../../store/database.ts";
import { withReadScope } from "../../store/scoped.ts";

export interface StreamEvent {
  seq: bigint;
  id: string;
  type: string;
  payload: unknown;
  created_at: Date;
}

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
): Promise<StreamEvent[]> {
  assert(limit >= 1 && limit <= events_page_max, "events page size out of range");
  assert(after_seq >= 0n, "after_seq is negative");
  return withReadScope(db, scope, (tx) =>
    tx.query<StreamEvent & Record<string, unknown>>(
      `SELECT s.seq, e.id::text AS id, e.type, e.payload, e.created_at
         FROM event_seqs s JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
        WHERE s.tenant_id = $1 AND s.seq > $2 AND ($3::text IS NULL OR e.party_ids @> ARRAY[$3::text])
        ORDER BY s.seq LIMIT $4`,
      [scope.tenant_id, after_seq, scope.party_id, limit],
    ),
  );
}

/** The highest seq the tenant has, 0 when none: where a new stream without Last-Event-ID starts. */
export async function latestEventSeq(db: Database, tenant_id: string): Promise<bigint> {
  const rows = await db.query<{ seq: bigint }>(
    "SELECT coalesce(max(seq), 0)::int8 AS seq FROM event_seqs WHERE tenant_id = $1",
    [tenant_id],
  );
  return rows[0]?.seq ?? 0n;
}
