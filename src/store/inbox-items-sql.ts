import { assert } from "../core/assert.ts";
import { arrayLiteral, type Queryable } from "./database.ts";

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

export interface NewInboxItemRow {
  id: string;
  user_id: string;
  event_id: string | null;
  event_seq: bigint | null;
  type: string;
  party_ids: readonly string[];
  title: string;
  body: string;
  /** The item's data as JSON text. */
  data_json: string;
}

/** Inserts items, idempotent by user and event; returns those inserted. */
export function insertInboxItemRows(
  tx: Queryable,
  tenant_id: string,
  rows: readonly NewInboxItemRow[],
  now: Date,
): Promise<{ id: string; user_id: string; type: string; title: string; party_ids: string[] }[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return tx.query<{ id: string; user_id: string; type: string; title: string; party_ids: string[] }>(
    `INSERT INTO inbox_items (tenant_id, id, user_id, event_id, event_seq, type, party_ids, title, body, data, created_at)
     SELECT $1, r.id, r.user_id, r.event_id, r.event_seq, r.type, r.parties::text[], r.title, r.body, r.data::jsonb, $11
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::int8[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS r(id, user_id, event_id, event_seq, type, parties, title, body, data)
     ON CONFLICT (tenant_id, user_id, event_id) DO NOTHING
     RETURNING id::text AS id, user_id::text AS user_id, type, title, party_ids`,
    [
      tenant_id,
      rows.map((row) => row.id),
      rows.map((row) => row.user_id),
      rows.map((row) => row.event_id),
      rows.map((row) => row.event_seq),
      rows.map((row) => row.type),
      rows.map((row) => arrayLiteral(row.party_ids)),
      rows.map((row) => row.title),
      rows.map((row) => row.body),
      rows.map((row) => row.data_json),
      now,
    ],
  );
}
