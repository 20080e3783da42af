import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";
import {
  deleteAccountFailures,
  selectLockedUntil,
  upsertLoginFailure,
} from "../../store/login-throttle-sql.ts";

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
  return selectLockedUntil(db, subjects, now);
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
    const row = await upsertLoginFailure(tx, kind, subjects[kind], rule, now);
    if (row.locked_until !== null && row.locked_until > now && (locked === null || row.locked_until > locked))
      locked = row.locked_until;
  }
  return locked;
}

/** A successful login clears its account's failures (not the IP's: one good password must not reset a spray). */
export async function clearAccountFailures(tx: Queryable, account: string, now: Date): Promise<void> {
  await deleteAccountFailures(tx, account, now);
}
