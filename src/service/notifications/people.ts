import { assert } from "../../core/assert.ts";
import { isRole } from "../../core/auth/roles.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { dispatch_events_per_batch_max, recipients_per_tenant_max } from "../../core/limits.ts";
import {
  type Delivery,
  eventTypeSpec,
  internal_type_prefix,
  isDelivery,
  isLanguage,
  type Language,
} from "../../core/notifications/event-types.ts";
import {
  nextDigestAt,
  type PreferenceMap,
  type Recipient,
  tellingsOf,
} from "../../core/notifications/recipients.ts";
import { mailOf, renderTemplate } from "../../core/notifications/render.ts";
import type { Queryable } from "../../store/database.ts";
import { insertEmailRows } from "../../store/email-messages-sql.ts";
import { insertInboxItemRows } from "../../store/inbox-items-sql.ts";
import { selectTenantPreferences } from "../../store/notification-preferences-sql.ts";
import { selectRecipientUsers } from "../../store/users-sql.ts";
import { writeSteps } from "../../store/write-set.ts";
import { eventsWrite } from "../events/event-enqueue.ts";
import {
  channelCursor,
  eventsAfter,
  latestSeq,
  leadTenant,
  moveCursor,
  type SequencedEvent,
} from "./stream-batch.ts";

// The "people" channel: events become inbox items and e-mails for the
// tenant's users, by role, party and preference. Each inbox item is also
// written as an `inbox.item_created` event, so the live stream pushes it to
// its user (src/http/routes/events.ts shows those to their user only).

export interface InboxRow {
  id: string;
  user_id: string;
  event_id: string | null;
  event_seq: bigint | null;
  type: string;
  party_ids: readonly string[];
  title: string;
  body: string;
  data: unknown;
}

export interface EmailRow {
  id: string;
  user_id: string;
  event_id: string | null;
  kind: "event" | "digest" | "test";
  to_address: string;
  language: Language;
  type: string;
  subject: string;
  text_body: string;
  html_body: string;
  next_attempt_at: Date;
}

export async function loadRecipients(tx: Queryable, tenant_id: string): Promise<Recipient[]> {
  const rows = await selectRecipientUsers(tx, tenant_id, recipients_per_tenant_max);
  return rows.map((row) => {
    assert(isRole(row.role), `user ${row.id} has role ${row.role}`);
    return {
      id: row.id,
      role: row.role,
      party_id: row.party_id,
      email: row.email,
      language: isLanguage(row.language) ? row.language : "zh-CN",
    };
  });
}

export async function loadPreferences(tx: Queryable, tenant_id: string): Promise<PreferenceMap> {
  const rows = await selectTenantPreferences(tx, tenant_id);
  const map = new Map<string, Map<string, Delivery>>();
  for (const row of rows) {
    if (!isDelivery(row.delivery)) continue;
    const user = map.get(row.user_id) ?? new Map<string, Delivery>();
    user.set(row.event_type, row.delivery);
    map.set(row.user_id, user);
  }
  return map;
}

/** The inbox items and mails an event batch makes: pure, from what was read. */
export function planPeople(
  events: readonly SequencedEvent[],
  users: readonly Recipient[],
  preferences: PreferenceMap,
  now: Date,
): { inbox: InboxRow[]; email: EmailRow[] } {
  const inbox: InboxRow[] = [];
  const email: EmailRow[] = [];
  for (const event of events) {
    if (event.type.startsWith(internal_type_prefix)) continue;
    const spec = eventTypeSpec(event.type);
    for (const telling of tellingsOf(event, users, preferences)) {
      const rendered = renderTemplate(spec.templates[telling.user.language], event.type, event.payload);
      if (telling.inbox)
        inbox.push({
          id: newId(),
          user_id: telling.user.id,
          event_id: event.id,
          event_seq: event.seq,
          type: event.type,
          party_ids: event.party_ids,
          title: rendered.title,
          body: rendered.body,
          data: event.payload,
        });
      if (telling.email !== null) {
        const mail = mailOf(rendered, telling.user.language);
        email.push({
          id: newId(),
          user_id: telling.user.id,
          event_id: event.id,
          kind: telling.email === "digest" ? "digest" : "event",
          to_address: telling.user.email!,
          language: telling.user.language,
          type: event.type,
          subject: mail.subject,
          text_body: mail.text,
          html_body: mail.html,
          next_attempt_at: telling.email === "digest" ? nextDigestAt(now) : now,
        });
      }
    }
  }
  return { inbox, email };
}

/** Writes inbox items (idempotent by user and event) and their stream events. */
export async function insertInboxItems(
  tx: Queryable,
  tenant_id: string,
  rows: readonly InboxRow[],
  now: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await insertInboxItemRows(
    tx,
    tenant_id,
    rows.map(({ data, ...row }) => ({ ...row, data_json: toJsonText(data ?? {}) })),
    now,
  );
  await writeSteps(tx, [
    eventsWrite(
      tenant_id,
      inserted.map((item) => ({
        type: "inbox.item_created",
        party_ids: item.party_ids,
        payload: { user_id: item.user_id, item_id: item.id, type: item.type, title: item.title },
      })),
      now,
    ),
  ]);
  return inserted.length;
}

export async function insertEmails(
  tx: Queryable,
  tenant_id: string,
  rows: readonly EmailRow[],
  now: Date,
): Promise<number> {
  return insertEmailRows(tx, tenant_id, rows, now);
}

/**
 * One round of the people channel for a tenant, in the caller's transaction:
 * returns how many events it took (0 when idle or not the leader).
 */
export async function fanOutPeople(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  batch_max = dispatch_events_per_batch_max,
): Promise<number> {
  if (!(await leadTenant(tx, tenant_id))) return 0;
  const cursor = await channelCursor(tx, tenant_id, "people");
  const latest = await latestSeq(tx, tenant_id);
  if (latest <= cursor) return 0;
  const users = await loadRecipients(tx, tenant_id);
  if (users.length === 0) {
    // Nobody to tell: skip ahead without reading the events (as the webhooks channel does with no endpoint).
    await moveCursor(tx, tenant_id, "people", cursor, latest, now);
    return Number(latest - cursor);
  }
  const events = await eventsAfter(tx, tenant_id, cursor, batch_max);
  const last = events.at(-1);
  if (last === undefined) return 0;
  if (events.some((event) => !event.type.startsWith(internal_type_prefix))) {
    const plan = planPeople(events, users, await loadPreferences(tx, tenant_id), now);
    await insertInboxItems(tx, tenant_id, plan.inbox, now);
    await insertEmails(tx, tenant_id, plan.email, now);
  }
  await moveCursor(tx, tenant_id, "people", cursor, last.seq, now);
  return events.length;
}
