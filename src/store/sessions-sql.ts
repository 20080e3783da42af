import type { Queryable } from "./database.ts";

// The one home of the `sessions` table: console sessions, kept by the SHA-256
// of their token and CSRF token (never the tokens themselves).

export interface NewSession {
  tenant_id: string;
  id: string;
  user_id: string;
  token_sha256: string;
  csrf_sha256: string;
  created_at: Date;
  expires_at: Date;
  ip: string;
}

export async function insertSession(tx: Queryable, session: NewSession): Promise<void> {
  await tx.query(
    `INSERT INTO sessions (tenant_id, id, user_id, token_sha256, csrf_sha256, created_at, last_seen_at, expires_at, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)`,
    [
      session.tenant_id,
      session.id,
      session.user_id,
      session.token_sha256,
      session.csrf_sha256,
      session.created_at,
      session.expires_at,
      session.ip,
    ],
  );
}

/** Revokes the live session of a token; its user's id, or null when there was none. */
export async function revokeSession(
  tx: Queryable,
  token_sha256: string,
  now: Date,
  reason: string,
): Promise<string | null> {
  const rows = await tx.query<{ tenant_id: string; user_id: string }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
      WHERE token_sha256 = $1 AND revoked_at IS NULL RETURNING tenant_id, user_id::text`,
    [token_sha256, now, reason],
  );
  return rows[0]?.user_id ?? null;
}

export interface LiveSessionRow {
  tenant_id: string;
  user_id: string;
  csrf_sha256: string;
  last_seen_at: Date;
  expires_at: Date;
}

/** The unrevoked session of a token hash (expiry and idleness are the caller's to judge). */
export async function selectUnrevokedSession(
  db: Queryable,
  token_sha256: string,
): Promise<LiveSessionRow | undefined> {
  const [row] = await db.query<LiveSessionRow & Record<string, unknown>>(
    `SELECT tenant_id, user_id::text, csrf_sha256, last_seen_at, expires_at FROM sessions
      WHERE token_sha256 = $1 AND revoked_at IS NULL`,
    [token_sha256],
  );
  return row;
}

export async function touchSession(db: Queryable, token_sha256: string, now: Date): Promise<void> {
  await db.query("UPDATE sessions SET last_seen_at = $2 WHERE token_sha256 = $1", [token_sha256, now]);
}

/** Ends every live session of a user (a role change, disabling). */
export async function revokeUserSessions(
  tx: Queryable,
  tenant_id: string,
  user_id: string,
  reason: string,
  now: Date,
): Promise<void> {
  await tx.query(
    "UPDATE sessions SET revoked_at = $3, revoked_reason = $4 WHERE tenant_id = $1 AND user_id = $2::uuid AND revoked_at IS NULL",
    [tenant_id, user_id, now, reason],
  );
}
