import type { Queryable } from "./database.ts";

// The one home of the `notification_preferences` table's queries (decisions §29).

/** A user's chosen delivery per event type (types not listed take their default). */
export function selectPreferences(
  db: Queryable,
  tenant_id: string,
  user_id: string,
): Promise<{ event_type: string; delivery: string }[]> {
  return db.query<{ event_type: string; delivery: string }>(
    "SELECT event_type, delivery FROM notification_preferences WHERE tenant_id = $1 AND user_id = $2",
    [tenant_id, user_id],
  );
}

/** Sets each listed event type's delivery, replacing what was chosen before. */
export async function upsertPreferences(
  tx: Queryable,
  tenant_id: string,
  user_id: string,
  items: readonly { event_type: string; delivery: string }[],
  now: Date,
): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `INSERT INTO notification_preferences (tenant_id, user_id, event_type, delivery, updated_at)
     SELECT $1, $2, p.event_type, p.delivery, $5 FROM unnest($3::text[], $4::text[]) AS p(event_type, delivery)
     ON CONFLICT (tenant_id, user_id, event_type) DO UPDATE SET delivery = excluded.delivery, updated_at = excluded.updated_at`,
    [tenant_id, user_id, items.map((item) => item.event_type), items.map((item) => item.delivery), now],
  );
}

/** Every user's chosen delivery per event type in a tenant. */
export function selectTenantPreferences(
  tx: Queryable,
  tenant_id: string,
): Promise<{ user_id: string; event_type: string; delivery: string }[]> {
  return tx.query<{ user_id: string; event_type: string; delivery: string }>(
    "SELECT user_id::text AS user_id, event_type, delivery FROM notification_preferences WHERE tenant_id = $1",
    [tenant_id],
  );
}
