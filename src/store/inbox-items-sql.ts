import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `inbox_items` table's queries (decisions §29). Run the
// reads on a scoped handle (store/scoped.ts): row-level security then confines
// them to the caller's party whatever the filter says.

export interface InboxItemRow {
  id: string;
  type: string;
  title: string;
  body: string;
  data: unknown;
  event_id: string | null;
  event_seq: bigint | null;
  created_at: Date;
  read_at: Date | null;
}

/** A user's items newest first (by id, a UUIDv7), those before `before_id`; `limit` rows. */
export function selectInboxItems(
  tx: Queryable,
  tenant_id: string,
  user_id: string,
  filter: { before_id: string | null; unread_only: boolean; limit: number },
): Promise<InboxItemRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return tx.query<InboxItemRow & Record<string, unknown>>(
    `SELECT id::text AS id, type, title, body, data, event_id::text AS event_id, event_seq, created_at, read_at
       FROM inbox_items
      WHERE tenant_id = $1 AND user_id = $2 AND ($3::uuid IS NULL OR id < $3::uuid) AND (NOT $4 OR read_at IS NULL)
      ORDER BY id DESC LIMIT $5`,
    [tenant_id, user_id, filter.before_id, filter.unread_only, filter.limit],
  );
}

export async function countUnreadInboxItems(
  tx: Queryable,
  tenant_id: string,
  user_id: string,
): Promise<number> {
  const [count] = await tx.query<{ n: bigint }>(
    "SELECT count(*)::int8 AS n FROM inbox_items WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL",
    [tenant_id, user_id],
  );
  return Number(count?.n ?? 0n);
}

/** Marks one of the user's items read (keeping the first read time); undefined when the user has no such item. */
export async function markInboxItemRead(
  db: Queryable,
  tenant_id: string,
  user_id: string,
  id: string,
  now: Date,
): Promise<{ id: string; read_at: Date } | undefined> {
  const rows = await db.query<{ id: string; read_at: Date }>(
    `UPDATE inbox_items SET read_at = coalesce(read_at, $4) WHERE tenant_id = $1 AND user_id = $2 AND id = $3
     RETURNING id::text AS id, read_at`,
    [tenant_id, user_id, id, now],
  );
  return rows[0];
}

/** Marks every unread item of the user read; answers how many changed. */
export async function markAllInboxItemsRead(
  db: Queryable,
  tenant_id: string,
  user_id: string,
  now: Date,
): Promise<number> {
  const rows = await db.query(
    "UPDATE inbox_items SET read_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL RETURNING 1",
    [tenant_id, user_id, now],
  );
  return rows.length;
}
