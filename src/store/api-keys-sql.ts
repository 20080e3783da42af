import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `api_keys` table's queries (decisions §29). Only the
// secret's SHA-256 is stored; service/auth/api-keys.ts compares it in constant time.

/** What authentication reads of a key. */
export interface KeyAuthRow {
  tenant_id: string;
  id: string;
  secret_sha256: string;
  role: string;
  party_id: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  user_id: string | null;
}

/** A key as lists and revocation show it: no secret. */
export interface KeyListRow {
  id: string;
  name: string;
  role: string;
  party_id: string | null;
  user_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

const key_columns = `id, name, role, party_id, user_id::text AS user_id, created_at, last_used_at, expires_at, revoked_at, revoked_reason`;

export async function insertApiKey(
  tx: Queryable,
  key: {
    tenant_id: string;
    id: string;
    secret_sha256: string;
    name: string;
    role: string;
    party_id: string | null;
    expires_at: Date | null;
    created_by: string;
    user_id: string | null;
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO api_keys (tenant_id, id, secret_sha256, name, role, party_id, created_at, expires_at, created_by, user_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      key.tenant_id,
      key.id,
      key.secret_sha256,
      key.name,
      key.role,
      key.party_id,
      now,
      key.expires_at,
      key.created_by,
      key.user_id,
    ],
  );
}

/** The key with this id, in any tenant: the id is the token's public half. */
export async function selectKeyForAuthentication(db: Queryable, id: string): Promise<KeyAuthRow | undefined> {
  const [row] = await db.query<KeyAuthRow & Record<string, unknown>>(
    `SELECT tenant_id, id, secret_sha256, role, party_id, expires_at, revoked_at, last_used_at, user_id::text
       FROM api_keys WHERE id = $1`,
    [id],
  );
  return row;
}

export async function touchApiKey(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", [id, now]);
}

/** Keys newest first, before the cursor's (created_at, id); revoked ones only when asked. */
export function selectApiKeys(
  db: Queryable,
  tenant_id: string,
  filter: { include_revoked: boolean; before: readonly [Date, string] | null; limit: number },
): Promise<KeyListRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return db.query<KeyListRow & Record<string, unknown>>(
    `SELECT ${key_columns} FROM api_keys
      WHERE tenant_id = $1 AND ($2::bool OR revoked_at IS NULL)
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::text))
      ORDER BY created_at DESC, id DESC LIMIT $5`,
    [tenant_id, filter.include_revoked, filter.before?.[0] ?? null, filter.before?.[1] ?? "", filter.limit],
  );
}

/** Revokes a key, keeping the first revocation's time, reason and revoker; undefined when there is no such key. */
export async function revokeApiKeyRow(
  tx: Queryable,
  tenant_id: string,
  id: string,
  revocation: { reason: string | null; revoked_by: string },
  now: Date,
): Promise<KeyListRow | undefined> {
  const [row] = await tx.query<KeyListRow & Record<string, unknown>>(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3),
            revoked_reason = CASE WHEN revoked_at IS NULL THEN $4 ELSE revoked_reason END,
            revoked_by = coalesce(revoked_by, $5)
      WHERE tenant_id = $1 AND id = $2 RETURNING ${key_columns}`,
    [tenant_id, id, now, revocation.reason, revocation.revoked_by],
  );
  return row;
}
