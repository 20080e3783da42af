import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `users` table's queries (decisions §29). A row carries
// its scrypt parameters; service/auth/users.ts turns it into a typed user.

export interface StoredUserRow {
  tenant_id: string;
  id: string;
  email: string | null;
  role: string;
  party_id: string | null;
  password_salt_hex: string;
  password_hash_hex: string;
  scrypt_n: number;
  scrypt_r: number;
  scrypt_p: number;
  created_at: Date;
  disabled_at: Date | null;
}

/** A user as lists show it: no password. */
export interface UserListRow {
  id: string;
  email: string | null;
  role: string;
  party_id: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

const stored_columns = `tenant_id, id::text, email, role, party_id, password_salt_hex, password_hash_hex,
  scrypt_n, scrypt_r, scrypt_p, created_at, disabled_at`;
const list_columns = "id::text, email, role, party_id, created_at, disabled_at";
const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function userEmailTaken(tx: Queryable, tenant_id: string, email: string): Promise<boolean> {
  const rows = await tx.query("SELECT 1 FROM users WHERE tenant_id = $1 AND email = $2", [tenant_id, email]);
  return rows.length > 0;
}

export async function insertUser(
  tx: Queryable,
  user: {
    tenant_id: string;
    id: string;
    email: string | null;
    role: string;
    party_id: string | null;
    password: { salt_hex: string; hash_hex: string; n: number; r: number; p: number };
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO users (tenant_id, id, email, role, party_id, password_salt_hex, password_hash_hex,
                        scrypt_n, scrypt_r, scrypt_p, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
    [
      user.tenant_id,
      user.id,
      user.email,
      user.role,
      user.party_id,
      user.password.salt_hex,
      user.password.hash_hex,
      user.password.n,
      user.password.r,
      user.password.p,
      now,
    ],
  );
}

/** The user whose email is `login` (lower-cased by the caller) or whose id it is. */
export async function selectUserByLogin(
  db: Queryable,
  tenant_id: string,
  login: string,
): Promise<StoredUserRow | undefined> {
  const [row] = await db.query<StoredUserRow & Record<string, unknown>>(
    `SELECT ${stored_columns} FROM users WHERE tenant_id = $1 AND (email = $2 OR id = $3::uuid)`,
    [tenant_id, login, uuid_pattern.test(login) ? login : null],
  );
  return row;
}

export async function selectUserById(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<StoredUserRow | undefined> {
  if (!uuid_pattern.test(id)) return undefined;
  const [row] = await db.query<StoredUserRow & Record<string, unknown>>(
    `SELECT ${stored_columns} FROM users WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, id],
  );
  return row;
}

export async function updateUserRole(
  tx: Queryable,
  tenant_id: string,
  id: string,
  change: { role: string; party_id: string | null },
  now: Date,
): Promise<void> {
  await tx.query(
    "UPDATE users SET role = $3, party_id = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    [tenant_id, id, change.role, change.party_id, now],
  );
}

/** Disables (keeping the first time) or enables a user; false when there is no such user. */
export async function setUserDisabled(
  tx: Queryable,
  tenant_id: string,
  id: string,
  disabled: boolean,
  now: Date,
): Promise<boolean> {
  const rows = await tx.query(
    disabled
      ? "UPDATE users SET disabled_at = coalesce(disabled_at, $3), updated_at = $3 WHERE tenant_id = $1 AND id = $2::uuid RETURNING id"
      : "UPDATE users SET disabled_at = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2::uuid RETURNING id",
    [tenant_id, uuid_pattern.test(id) ? id : null, now],
  );
  return rows.length > 0;
}

/** Users in creation order after the cursor's (created_at, id); `limit` rows. */
export function selectUsers(
  db: Queryable,
  tenant_id: string,
  filter: { after: readonly [Date, string] | null; limit: number },
): Promise<UserListRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return db.query<UserListRow & Record<string, unknown>>(
    `SELECT ${list_columns} FROM users
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY created_at, id LIMIT $4`,
    [tenant_id, filter.after?.[0] ?? null, filter.after?.[1] ?? null, filter.limit],
  );
}

/** A user's language and email, as notifications address them; undefined when there is no such user. */
export async function selectUserContact(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<{ language: string; email: string | null } | undefined> {
  const [row] = await db.query<{ language: string; email: string | null }>(
    "SELECT language, email FROM users WHERE tenant_id = $1 AND id = $2",
    [tenant_id, id],
  );
  return row;
}

export async function updateUserLanguage(
  tx: Queryable,
  tenant_id: string,
  id: string,
  language: string,
  now: Date,
): Promise<void> {
  await tx.query("UPDATE users SET language = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2", [
    tenant_id,
    id,
    language,
    now,
  ]);
}

/** The tenant's enabled users as notification recipients, at most `limit`, by id. */
export function selectRecipientUsers(
  tx: Queryable,
  tenant_id: string,
  limit: number,
): Promise<{ id: string; role: string; party_id: string | null; email: string | null; language: string }[]> {
  assert(limit >= 1, "a recipient read takes at least one user");
  return tx.query<{
    id: string;
    role: string;
    party_id: string | null;
    email: string | null;
    language: string;
  }>(
    `SELECT id::text AS id, role, party_id, email, language FROM users
      WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY id LIMIT $2`,
    [tenant_id, limit],
  );
}
