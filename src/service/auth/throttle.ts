import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";

// Login throttling lives in the database, so every process sharing it counts
// the same failures. Each subject (an account, a client IP) has a window; the
// failure that reaches the limit locks the subject until `locked_until`.

export interface ThrottleRule {
  failures_max: number;
  window_ms: number;
  lockout_ms: number;
}

export interface ThrottleRules {
  account: ThrottleRule;
  ip: ThrottleRule;
}

export const throttle_default: ThrottleRules = {
  account: { failures_max: 5, window_ms: 15 * 60_000, lockout_ms: 15 * 60_000 },
  ip: { failures_max: 50, window_ms: 15 * 60_000, lockout_ms: 15 * 60_000 },
};

export interface ThrottleSubjects {
  account: string;
  ip: string;
}

/** The later lock of the two subjects, or null when neither is locked. */
export async function lockedUntil(
  db: Queryable,
  subjects: ThrottleSubjects,
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

/** Counts one failed attempt against both subjects; returns the lock it caused, if any. */
export async function recordLoginFailure(
  tx: Queryable,
  subjects: ThrottleSubjects,
  now: Date,
  rules = throttle_default,
): Promise<Date | null> {
  let locked: Date | null = null;
  for (const kind of ["account", "ip"] as const) {
    const rule = rules[kind];
    assert(rule.failures_max >= 1, "a throttle must allow at least one failure");
    // One statement per subject: concurrent failures from two processes each
    // add one under the row lock, and the window restarts once it has passed.
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
      [kind, subjects[kind], now, rule.failures_max, rule.window_ms, rule.lockout_ms],
    );
    const row = rows[0];
    assert(row !== undefined, "throttle upsert returned no row");
    if (row.locked_until !== null && row.locked_until > now && (locked === null || row.locked_until > locked))
      locked = row.locked_until;
  }
  return locked;
}

/** A successful login clears its account's failures (not the IP's: one good password must not reset a spray). */
export async function clearAccountFailures(tx: Queryable, account: string, now: Date): Promise<void> {
  await tx.query(
    "DELETE FROM login_throttle WHERE subject_kind = 'account' AND subject = $1 AND (locked_until IS NULL OR locked_until <= $2)",
    [account, now],
  );
}
