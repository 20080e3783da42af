import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `login_throttle` table's queries (decisions §29). Each
// subject (an account, a client IP) has a window of failures and, once it has
// seen too many, a lock until `locked_until`.

export type ThrottleKind = "account" | "ip";

/** The later lock of the two subjects after `now`, or null when neither is locked. */
export async function selectLockedUntil(
  db: Queryable,
  subjects: { account: string; ip: string },
  now: Date,
): Promise<Date | null> {
  const rows = await db.query<{ locked_until: Date | null }>(
    `SELECT max(locked_until) AS locked_until FROM login_throttle
      WHERE ((subject_kind = 'account' AND subject = $1) OR (subject_kind = 'ip' AND subject = $2))
        AND locked_until > $3`,
    [subjects.account, subjects.ip, now],
  );
  return rows[0]?.locked_until ?? null;
}

/**
 * Counts one failure of a subject in one statement: concurrent failures from two
 * processes each add one under the row lock, and the window restarts once it
 * has passed. Answers the subject's failures and lock after it.
 */
export async function upsertLoginFailure(
  tx: Queryable,
  kind: ThrottleKind,
  subject: string,
  rule: { failures_max: number; window_ms: number; lockout_ms: number },
  now: Date,
): Promise<{ failures: number; locked_until: Date | null }> {
  const rows = await tx.query<{ failures: number; locked_until: Date | null }>(
    `INSERT INTO login_throttle AS t (subject_kind, subject, failures, window_started_at, locked_until)
     VALUES ($1, $2, 1, $3, CASE WHEN $4::int <= 1 THEN $3::timestamptz + make_interval(secs => $6::float8 / 1000) END)
     ON CONFLICT (subject_kind, subject) DO UPDATE SET
       failures = CASE WHEN t.window_started_at <= $3::timestamptz - make_interval(secs => $5::float8 / 1000)
                       THEN 1 ELSE t.failures + 1 END,
       window_started_at = CASE WHEN t.window_started_at <= $3::timestamptz - make_interval(secs => $5::float8 / 1000)
                                THEN $3 ELSE t.window_started_at END,
       locked_until = CASE
         WHEN t.window_started_at > $3::timestamptz - make_interval(secs => $5::float8 / 1000)
          AND t.failures + 1 >= $4::int
         THEN $3::timestamptz + make_interval(secs => $6::float8 / 1000)
         ELSE t.locked_until END
     RETURNING failures, locked_until`,
    [kind, subject, now, rule.failures_max, rule.window_ms, rule.lockout_ms],
  );
  const row = rows[0];
  assert(row !== undefined, "throttle upsert returned no row");
  return row;
}

/** Forgets an account's failures unless it is locked now. */
export async function deleteAccountFailures(tx: Queryable, account: string, now: Date): Promise<void> {
  await tx.query(
    "DELETE FROM login_throttle WHERE subject_kind = 'account' AND subject = $1 AND (locked_until IS NULL OR locked_until <= $2)",
    [account, now],
  );
}
