import type { Queryable } from "./database.ts";

// Queries of the `email_messages` table (decisions §29). The mailer's claim and
// outcome writes are still in service/notifications/mailer.ts (see layering.test.ts).

export interface MailOutcomeRow {
  event_id: string;
  status: string;
  eml_file: string | null;
  last_error: string | null;
}

/** How the mails made for these events of one user left: sent, kept as .eml, pending, failed. */
export function selectMailOutcomes(
  db: Queryable,
  tenant_id: string,
  user_id: string,
  event_ids: readonly string[],
): Promise<MailOutcomeRow[]> {
  if (event_ids.length === 0) return Promise.resolve([]);
  return db.query<MailOutcomeRow & Record<string, unknown>>(
    `SELECT event_id::text AS event_id, status, eml_file, last_error FROM email_messages
      WHERE tenant_id = $1 AND user_id = $2 AND event_id = ANY($3::uuid[])`,
    [tenant_id, user_id, event_ids],
  );
}
