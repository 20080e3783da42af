import type { Principal } from "../../core/auth/roles.ts";
import { readScopeOf } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ServiceContext } from "../context.ts";

// The in-app inbox of a console user. Reads run under row-level security (a
// party's user can only ever see items of its party) and are filtered to the
// caller's own user id. An API key is no user: its inbox is empty.

export const inbox_page_max = 200;

export type InboxItem = {
  id: string;
  type: string;
  title: string;
  body: string;
  data: unknown;
  event_id: string | null;
  event_seq: bigint | null;
  created_at: Date;
  read_at: Date | null;
  /** The mail made for the same event, if any: how it left (sent, kept as .eml, pending, failed). */
  email: { status: string; eml_file: string | null; last_error: string | null } | null;
};

export function userOf(principal: Principal): string | null {
  return principal.actor.startsWith("user:") ? principal.actor.slice(5) : null;
}

function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const id = Buffer.from(cursor, "base64url").toString();
  if (!isUuid(id)) throw new DomainError("cursor_invalid", "cursor is not one this API returned", "cursor");
  return id;
}

export async function listInbox(
  ctx: ServiceContext,
  principal: Principal,
  options: { limit?: number | undefined; cursor?: string | undefined; unread_only?: boolean | undefined },
): Promise<{ items: InboxItem[]; next_cursor: string | null; unread_count: number }> {
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > inbox_page_max)
    throw new DomainError("limit_invalid", `limit must be 1 to ${inbox_page_max}`, "limit");
  const before = decodeCursor(options.cursor);
  const user_id = userOf(principal);
  if (user_id === null) return { items: [], next_cursor: null, unread_count: 0 };
  const scope = readScopeOf(principal);
  const { rows, unread } = await withReadScope(ctx.db, scope, async (tx) => {
    const rows = await tx.query<Omit<InboxItem, "email"> & { user_id: string }>(
      `SELECT id::text AS id, type, title, body, data, event_id::text AS event_id, event_seq, created_at, read_at
         FROM inbox_items
        WHERE tenant_id = $1 AND user_id = $2 AND ($3::uuid IS NULL OR id < $3::uuid) AND (NOT $4 OR read_at IS NULL)
        ORDER BY id DESC LIMIT $5`,
      [scope.tenant_id, user_id, before, options.unread_only === true, limit + 1],
    );
    const [count] = await tx.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM inbox_items WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL",
      [scope.tenant_id, user_id],
    );
    return { rows, unread: Number(count?.n ?? 0n) };
  });
  const page = rows.slice(0, limit);
  const event_ids = page.map((row) => row.event_id).filter((id): id is string => id !== null);
  // Mails are not readable on a party's behalf; this lookup is confined to the caller's own rows by its filter.
  const mails =
    event_ids.length === 0
      ? []
      : await ctx.db.query<{
          event_id: string;
          status: string;
          eml_file: string | null;
          last_error: string | null;
        }>(
          `SELECT event_id::text AS event_id, status, eml_file, last_error FROM email_messages
            WHERE tenant_id = $1 AND user_id = $2 AND event_id = ANY($3::uuid[])`,
          [scope.tenant_id, user_id, event_ids],
        );
  const by_event = new Map(mails.map((mail) => [mail.event_id, mail]));
  const items = page.map((row) => {
    const mail = row.event_id === null ? undefined : by_event.get(row.event_id);
    return {
      ...row,
      email:
        mail === undefined
          ? null
          : { status: mail.status, eml_file: mail.eml_file, last_error: mail.last_error },
    };
  });
  const last = page.at(-1);
  const next_cursor =
    rows.length > limit && last !== undefined ? Buffer.from(last.id).toString("base64url") : null;
  return { items, next_cursor, unread_count: unread };
}

export async function markRead(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<{ id: string; read_at: Date }> {
  const user_id = userOf(principal);
  if (user_id === null || !isUuid(id))
    throw new DomainError("inbox_item_not_found", `no inbox item ${id.slice(0, 80)}`, "id");
  const rows = await ctx.db.query<{ id: string; read_at: Date }>(
    `UPDATE inbox_items SET read_at = coalesce(read_at, $4) WHERE tenant_id = $1 AND user_id = $2 AND id = $3
     RETURNING id::text AS id, read_at`,
    [principal.tenant_id, user_id, id, ctx.now()],
  );
  const row = rows[0];
  if (row === undefined) throw new DomainError("inbox_item_not_found", `no inbox item ${id}`, "id");
  return row;
}

export async function markAllRead(ctx: ServiceContext, principal: Principal): Promise<{ updated: number }> {
  const user_id = userOf(principal);
  if (user_id === null) return { updated: 0 };
  const rows = await ctx.db.query(
    "UPDATE inbox_items SET read_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL RETURNING 1",
    [principal.tenant_id, user_id, ctx.now()],
  );
  return { updated: rows.length };
}
