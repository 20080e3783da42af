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
      `SELECT seq, id::text, type, payload, created_at FROM events
        WHERE tenant_id = $1 AND seq > $2 AND ($3::text IS NULL OR party_ids @> ARRAY[$3::text])
        ORDER BY seq LIMIT $4`,
      [scope.tenant_id, after_seq, scope.party_id, limit],
    ),
  );
}

/** The highest seq the tenant has, 0 when none: where a new stream without Last-Event-ID starts. */
export async function latestEventSeq(db: Database, tenant_id: string): Promise<bigint> {
  const rows = await db.query<{ seq: bigint }>(
    "SELECT coalesce(max(seq), 0)::int8 AS seq FROM events WHERE tenant_id = $1 AND seq IS NOT NULL",
    [tenant_id],
  );
  return rows[0]?.seq ?? 0n;
}
