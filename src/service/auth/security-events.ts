import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { security_events_page_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";
import { insertSecurityEvent, selectSecurityEvents } from "../../store/security-events-sql.ts";

// The security audit trail: append-only rows (the table refuses UPDATE and
// DELETE). Written in the same transaction as the change it describes.

export const security_actions = [
  "login",
  "logout",
  "session_revoked",
  "api_key_created",
  "api_key_revoked",
  "user_created",
  "user_disabled",
  "user_enabled",
  "user_role_changed",
  "user_password_changed",
  "party_settlement_changed",
] as const;
export type SecurityAction = (typeof security_actions)[number];
export type SecurityOutcome = "success" | "failure" | "denied";

export interface SecurityEventInput {
  tenant_id: string;
  actor: string;
  ip: string | null;
  action: SecurityAction;
  outcome: SecurityOutcome;
  subject: string | null;
  detail?: Record<string, unknown>;
}

export interface SecurityEvent extends Required<SecurityEventInput> {
  id: string;
  occurred_at: Date;
}

const tenant_length_max = 64;
const actor_length_max = 200;

export async function recordSecurityEvent(
  tx: Queryable,
  input: SecurityEventInput,
  now: Date,
): Promise<string> {
  const id = newId();
  await insertSecurityEvent(tx, {
    // Failed logins carry whatever tenant the caller typed: clip it, never refuse the audit row.
    tenant_id: input.tenant_id.slice(0, tenant_length_max) || "-",
    id,
    occurred_at: now,
    actor: input.actor.slice(0, actor_length_max),
    ip: input.ip === null ? null : input.ip.slice(0, 64),
    action: input.action,
    outcome: input.outcome,
    subject: input.subject === null ? null : input.subject.slice(0, 300),
    detail_json: toJsonText(input.detail ?? {}),
  });
  return id;
}

/** The tenant's security events, newest first, a page at a time. */
export async function listSecurityEvents(
  db: Queryable,
  tenant_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<SecurityEvent>> {
  const limit = pageLimit(options.limit, 50, security_events_page_max);
  const before =
    options.cursor === undefined ? null : decodeCursor("security_events", options.cursor, ["uuid"])[0];
  const rows = await selectSecurityEvents<SecurityEvent>(db, tenant_id, {
    before_id: before,
    limit: limit + 1,
  });
  return pageOf(rows, limit, "security_events", (row) => [row.id]);
}
