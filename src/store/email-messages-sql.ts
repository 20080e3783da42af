import type { Queryable } from "./database.ts";

// The one home of the `email_messages` table's queries (decisions §29): the
// people channel's inserts, the mailer's claims and outcomes, and the reads.

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

export interface MailCountsRow {
  pending: number;
  retrying: number;
  failed: number;
  sent: number;
  kept: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
}

/** A tenant's mails by state and the newest error of those not sent, for the notification status route. */
export async function selectMailCounts(db: Queryable, tenant_id: string): Promise<MailCountsRow> {
  const [mail] = await db.query<Record<string, bigint | Date | string | null>>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int8 AS pending,
            count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int8 AS retrying,
            count(*) FILTER (WHERE status = 'failed')::int8 AS failed,
            count(*) FILTER (WHERE status = 'sent')::int8 AS sent,
            count(*) FILTER (WHERE status = 'kept')::int8 AS kept,
            min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_attempt_at
       FROM email_messages WHERE tenant_id = $1`,
    [tenant_id],
  );
  const [error] = await db.query<{ last_error: string; last_attempt_at: Date }>(
    `SELECT last_error, last_attempt_at FROM email_messages
      WHERE tenant_id = $1 AND last_error IS NOT NULL AND status IN ('pending', 'failed')
      ORDER BY last_attempt_at DESC LIMIT 1`,
    [tenant_id],
  );
  const n = (value: unknown) => Number(value ?? 0);
  return {
    pending: n(mail?.pending),
    retrying: n(mail?.retrying),
    failed: n(mail?.failed),
    sent: n(mail?.sent),
    kept: n(mail?.kept),
    next_attempt_at: (mail?.next_attempt_at as Date | null | undefined) ?? null,
    last_error: error?.last_error ?? null,
    last_error_at: error?.last_attempt_at ?? null,
  };
}

/** Mails waiting to be sent (first attempt or retry) over every tenant, for /metrics. */
export async function countPendingMails(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: bigint | string }>(
    "SELECT count(*)::int8 AS n FROM email_messages WHERE status = 'pending'",
  );
  return Number(row?.n ?? 0);
}

export interface NewEmailRow {
  id: string;
  user_id: string;
  event_id: string | null;
  kind: string;
  to_address: string;
  language: string;
  type: string;
  subject: string;
  text_body: string;
  html_body: string;
  next_attempt_at: Date;
}

/** Inserts pending mails, idempotent by user and event; returns how many were inserted. */
export async function insertEmailRows(
  tx: Queryable,
  tenant_id: string,
  rows: readonly NewEmailRow[],
  now: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await tx.query(
    `INSERT INTO email_messages (tenant_id, id, user_id, event_id, kind, to_address, language, type, subject,
                                 text_body, html_body, status, next_attempt_at, created_at)
     SELECT $1, m.id, m.user_id, m.event_id, m.kind, m.to_address, m.language, m.type, m.subject, m.text_body,
            m.html_body, 'pending', m.next_attempt_at, $13
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::text[], $12::timestamptz[])
         AS m(id, user_id, event_id, kind, to_address, language, type, subject, text_body, html_body, next_attempt_at)
     ON CONFLICT (tenant_id, user_id, event_id) DO NOTHING
     RETURNING 1`,
    [
      tenant_id,
      rows.map((row) => row.id),
      rows.map((row) => row.user_id),
      rows.map((row) => row.event_id),
      rows.map((row) => row.kind),
      rows.map((row) => row.to_address),
      rows.map((row) => row.language),
      rows.map((row) => row.type),
      rows.map((row) => row.subject),
      rows.map((row) => row.text_body),
      rows.map((row) => row.html_body),
      rows.map((row) => row.next_attempt_at),
      now,
    ],
  );
  return inserted.length;
}

export type DueMailRow = {
  id: string;
  user_id: string;
  kind: string;
  to_address: string;
  language: string;
  type: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
};

/** The mails due by `now` and not leased to another sender, at most `limit`, leased until `lease_until`. */
export async function claimDueMails(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  limit: number,
  lease_until: Date,
): Promise<DueMailRow[]> {
  const rows = await tx.query<DueMailRow>(
    `SELECT id::text AS id, user_id::text AS user_id, kind, to_address, language, type, subject, text_body, html_body, attempts
       FROM email_messages
      WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
      ORDER BY next_attempt_at, id LIMIT $3`,
    [tenant_id, now, limit],
  );
  if (rows.length > 0)
    await tx.query(
      "UPDATE email_messages SET lease_until = $3 WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
      [tenant_id, rows.map((row) => row.id), lease_until],
    );
  return rows;
}

/** Mails that left: `sent` over SMTP or `kept` as an .eml file. */
export async function markMailsSent(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
  outcome: { status: "sent" | "kept"; message_id: string; eml_file: string | null },
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE email_messages SET status = $3, attempts = attempts + 1, sent_at = $4, last_attempt_at = $4,
            message_id = $5, eml_file = $6, lease_until = NULL, last_error = NULL
      WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenant_id, ids, outcome.status, now, outcome.message_id, outcome.eml_file],
  );
}

/** Mails whose attempt failed: tried again at `next_attempt_at`, or `failed` at the `attempts_max`-th attempt. */
export async function markMailsFailed(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
  failure: { error: string; next_attempt_at: Date; attempts_max: number },
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE email_messages SET attempts = attempts + 1, last_attempt_at = $3, last_error = $4, lease_until = NULL,
            status = CASE WHEN attempts + 1 >= $6 THEN 'failed' ELSE 'pending' END, next_attempt_at = $5
      WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenant_id, ids, now, failure.error.slice(0, 1000), failure.next_attempt_at, failure.attempts_max],
  );
}

/** Gives claimed mails back before their lease lapses. */
export async function releaseMailLeases(
  db: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<void> {
  await db.query(
    "UPDATE email_messages SET lease_until = NULL WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
    [tenant_id, ids],
  );
}
