import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `security_events` table's queries (decisions §29). The
// table refuses UPDATE and DELETE: a row is only ever inserted and read.

export interface SecurityEventRow {
  tenant_id: string;
  id: string;
  occurred_at: Date;
  actor: string;
  ip: string | null;
  action: string;
  outcome: string;
  subject: string | null;
  detail: unknown;
}

/** Appends one event; the caller has clipped its texts to the columns' bounds. */
export async function insertSecurityEvent(
  tx: Queryable,
  event: Omit<SecurityEventRow, "detail"> & { detail_json: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO security_events (tenant_id, id, occurred_at, actor, ip, action, outcome, subject, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb)`,
    [
      event.tenant_id,
      event.id,
      event.occurred_at,
      event.actor,
      event.ip,
      event.action,
      event.outcome,
      event.subject,
      event.detail_json,
    ],
  );
}

/** The tenant's events newest first (by id, a UUIDv7), those before `before_id`; `limit` rows. */
export function selectSecurityEvents<Row>(
  db: Queryable,
  tenant_id: string,
  filter: { before_id: string | null; limit: number },
): Promise<Row[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return db.query<Row & Record<string, unknown>>(
    `SELECT tenant_id, id::text, occurred_at, actor, ip, action, outcome, subject, detail
       FROM security_events
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid)
      ORDER BY id DESC LIMIT $3`,
    [tenant_id, filter.before_id, filter.limit],
  );
}
