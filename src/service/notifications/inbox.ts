import type { Principal } from "../../core/auth/roles.ts";
import { readScopeOf } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { inbox_page_items_default, inbox_page_items_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import { selectMailOutcomes } from "../../store/email-messages-sql.ts";
import {
  countUnreadInboxItems,
  type InboxItemRow,
  markAllInboxItemsRead,
  markInboxItemRead,
  selectInboxItems,
} from "../../store/inbox-items-sql.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ServiceContext } from "../context.ts";

// The in-app inbox of a console user. Reads run under row-level security (a
// party's user can only ever see items of its party) and are filtered to the
// caller's own user id. An API key is no user: its inbox is empty.

export type InboxItem = InboxItemRow & {
  /** The mail made for the same event, if any: how it left (sent, kept as .eml, pending, failed). */
  email: { status: string; eml_file: string | null; last_error: string | null } | null;
};

export function userOf(principal: Principal): string | null {
  return principal.actor.startsWith("user:") ? principal.actor.slice(5) : null;
}

export async function listInbox(
  ctx: ServiceContext,
  principal: Principal,
  options: { limit?: number | undefined; cursor?: string | undefined; unread_only?: boolean | undefined },
): Promise<Page<InboxItem> & { unread_count: number }> {
  const limit = pageLimit(options.limit, inbox_page_items_default, inbox_page_items_max);
  const [before_id] =
    options.cursor === undefined ? [null] : decodeCursor("inbox_items", options.cursor, ["uuid"]);
  const user_id = userOf(principal);
  if (user_id === null) return { items: [], next_cursor: null, unread_count: 0 };
  const scope = readScopeOf(principal);
  const { rows, unread } = await withReadScope(ctx.db, scope, async (tx) => ({
    rows: await selectInboxItems(tx, scope.tenant_id, user_id, {
      before_id,
      unread_only: options.unread_only === true,
      limit: limit + 1,
    }),
    unread: await countUnreadInboxItems(tx, scope.tenant_id, user_id),
  }));
  const page = pageOf(rows, limit, "inbox_items", (row) => [row.id]);
  const event_ids = page.items.map((row) => row.event_id).filter((id): id is string => id !== null);
  // Mails are not readable on a party's behalf; this lookup is confined to the caller's own rows by its filter.
  const mails = await selectMailOutcomes(ctx.db, scope.tenant_id, user_id, event_ids);
  const by_event = new Map(mails.map((mail) => [mail.event_id, mail]));
  const items = page.items.map((row) => {
    const mail = row.event_id === null ? undefined : by_event.get(row.event_id);
    return {
      ...row,
      email:
        mail === undefined
          ? null
          : { status: mail.status, eml_file: mail.eml_file, last_error: mail.last_error },
    };
  });
  return { items, next_cursor: page.next_cursor, unread_count: unread };
}

export async function markRead(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<{ id: string; read_at: Date }> {
  const user_id = userOf(principal);
  if (user_id === null || !isUuid(id))
    throw new DomainError("inbox_item_not_found", `no inbox item ${id.slice(0, 80)}`, "id");
  const row = await markInboxItemRead(ctx.db, principal.tenant_id, user_id, id, ctx.now());
  if (row === undefined) throw new DomainError("inbox_item_not_found", `no inbox item ${id}`, "id");
  return row;
}

export async function markAllRead(ctx: ServiceContext, principal: Principal): Promise<{ updated: number }> {
  const user_id = userOf(principal);
  if (user_id === null) return { updated: 0 };
  return { updated: await markAllInboxItemsRead(ctx.db, principal.tenant_id, user_id, ctx.now()) };
}
