import { assert } from "../../core/assert.ts";
import { isRole, party_scoped_roles, type Role } from "../../core/auth/roles.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { password_length_max, password_length_min, users_page_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { hashPassword, type PasswordHash } from "./password.ts";
import { recordSecurityEvent } from "./security-events.ts";

// Console users: a role, a party for merchants and suppliers, and a scrypt
// password. Every change is written with its security_events row.

export interface UserInput {
  role: Role;
  party_id?: string | null | undefined;
  email?: string | null | undefined;
  password: string;
}

export interface UserView {
  id: string;
  email: string | null;
  role: Role;
  party_id: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

export interface UserRow extends UserView {
  tenant_id: string;
  password: PasswordHash;
}

const email_pattern = /^[^\s@]{1,64}@[^\s@]{1,189}$/;

function validateUser(input: UserInput): void {
  if (!isRole(input.role))
    throw new DomainError("role_invalid", `role ${JSON.stringify(input.role)} is not a role`, "role");
  const scoped = party_scoped_roles.has(input.role);
  if (scoped && !input.party_id)
    throw new DomainError("party_required", `a ${input.role} user must name its party`, "party_id");
  if (!scoped && input.party_id)
    throw new DomainError(
      "party_not_allowed",
      `a ${input.role} user sees every party; omit party_id`,
      "party_id",
    );
  if (input.email != null && !email_pattern.test(input.email))
    throw new DomainError("email_invalid", "email must look like name@domain", "email");
  if (input.password.length < password_length_min || input.password.length > password_length_max) {
    throw new DomainError(
      "password_invalid",
      `password must be ${password_length_min} to ${password_length_max} characters`,
      "password",
    );
  }
}

export async function createUser(
  ctx: ServiceContext,
  tenant_id: string,
  input: UserInput,
  audit: { actor: string; ip: string | null },
): Promise<UserView> {
  validateUser(input);
  const password = await hashPassword(input.password);
  const id = newId();
  const email = input.email == null ? null : input.email.toLowerCase();
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    if (input.party_id) {
      const party = await tx.query("SELECT 1 FROM parties WHERE tenant_id = $1 AND id = $2", [
        tenant_id,
        input.party_id,
      ]);
      if (party.length === 0)
        throw new DomainError("party_not_found", `no party ${input.party_id}`, "party_id");
    }
    if (email !== null) {
      const taken = await tx.query("SELECT 1 FROM users WHERE tenant_id = $1 AND email = $2", [
        tenant_id,
        email,
      ]);
      if (taken.length > 0)
        throw new DomainError("user_exists", `a user with email ${email} exists`, "email");
    }
    await tx.query(
      `INSERT INTO users (tenant_id, id, email, role, party_id, password_salt_hex, password_hash_hex,
                          scrypt_n, scrypt_r, scrypt_p, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
      [
        tenant_id,
        id,
        email,
        input.role,
        input.party_id ?? null,
        password.salt_hex,
        password.hash_hex,
        password.n,
        password.r,
        password.p,
        now,
      ],
    );
    await recordSecurityEvent(
      tx,
      {
        tenant_id,
        actor: audit.actor,
        ip: audit.ip,
        action: "user_created",
        outcome: "success",
        subject: `user:${id}`,
        detail: { role: input.role, party_id: input.party_id ?? null, email },
      },
      now,
    );
    return {
      id,
      email,
      role: input.role,
      party_id: input.party_id ?? null,
      created_at: now,
      disabled_at: null,
    };
  });
}

interface StoredUser {
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
  [column: string]: unknown;
}

const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The user a login name (email or user id) names in the tenant, or undefined. */
export async function findUserByLogin(
  db: Queryable,
  tenant_id: string,
  login: string,
): Promise<UserRow | undefined> {
  const lowered = login.toLowerCase();
  const rows = await db.query<StoredUser>(
    `SELECT tenant_id, id::text, email, role, party_id, password_salt_hex, password_hash_hex,
            scrypt_n, scrypt_r, scrypt_p, created_at, disabled_at
       FROM users WHERE tenant_id = $1 AND (email = $2 OR id = $3::uuid)`,
    [tenant_id, lowered, uuid_pattern.test(lowered) ? lowered : null],
  );
  return rows[0] === undefined ? undefined : toUserRow(rows[0]);
}

export async function findUserById(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<UserRow | undefined> {
  if (!uuid_pattern.test(id)) return undefined;
  const rows = await db.query<StoredUser>(
    `SELECT tenant_id, id::text, email, role, party_id, password_salt_hex, password_hash_hex,
            scrypt_n, scrypt_r, scrypt_p, created_at, disabled_at
       FROM users WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, id],
  );
  return rows[0] === undefined ? undefined : toUserRow(rows[0]);
}

function toUserRow(row: StoredUser): UserRow | undefined {
  if (!isRole(row.role)) return undefined;
  return {
    tenant_id: row.tenant_id,
    id: row.id,
    email: row.email,
    role: row.role,
    party_id: row.party_id,
    created_at: row.created_at,
    disabled_at: row.disabled_at,
    password: {
      n: row.scrypt_n,
      r: row.scrypt_r,
      p: row.scrypt_p,
      salt_hex: row.password_salt_hex,
      hash_hex: row.password_hash_hex,
    },
  };
}

export function userView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    party_id: row.party_id,
    created_at: row.created_at,
    disabled_at: row.disabled_at,
  };
}

/**
 * Changes a user's role (and party); ends the user's sessions so the new role
 * applies from the next login. Audited as `user_role_changed`.
 */
export async function changeUserRole(
  ctx: ServiceContext,
  tenant_id: string,
  user_id: string,
  change: { role: Role; party_id?: string | null | undefined },
  audit: { actor: string; ip: string | null },
): Promise<UserView> {
  validateUser({ role: change.role, party_id: change.party_id, password: "x".repeat(password_length_min) });
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    const before = await findUserById(tx, tenant_id, user_id);
    if (before === undefined) throw new DomainError("user_not_found", `no user ${user_id}`, "id");
    await tx.query(
      "UPDATE users SET role = $3, party_id = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
      [tenant_id, user_id, change.role, change.party_id ?? null, now],
    );
    await revokeSessionsOf(tx, tenant_id, user_id, "role_changed", now);
    await recordSecurityEvent(
      tx,
      {
        tenant_id,
        actor: audit.actor,
        ip: audit.ip,
        action: "user_role_changed",
        outcome: "success",
        subject: `user:${user_id}`,
        detail: {
          from: { role: before.role, party_id: before.party_id },
          to: { role: change.role, party_id: change.party_id ?? null },
        },
      },
      now,
    );
    return { ...userView(before), role: change.role, party_id: change.party_id ?? null };
  });
}

/** Disables a user and ends its sessions. Audited as `user_disabled`. */
export async function disableUser(
  ctx: ServiceContext,
  tenant_id: string,
  user_id: string,
  audit: { actor: string; ip: string | null },
): Promise<void> {
  const now = ctx.now();
  await inTransaction(ctx.db, async (tx) => {
    const rows = await tx.query(
      "UPDATE users SET disabled_at = coalesce(disabled_at, $3), updated_at = $3 WHERE tenant_id = $1 AND id = $2::uuid RETURNING id",
      [tenant_id, uuid_pattern.test(user_id) ? user_id : null, now],
    );
    if (rows.length === 0) throw new DomainError("user_not_found", `no user ${user_id}`, "id");
    await revokeSessionsOf(tx, tenant_id, user_id, "user_disabled", now);
    await recordSecurityEvent(
      tx,
      {
        tenant_id,
        actor: audit.actor,
        ip: audit.ip,
        action: "user_disabled",
        outcome: "success",
        subject: `user:${user_id}`,
      },
      now,
    );
  });
}

async function revokeSessionsOf(
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

/** Enables a disabled user again; its old sessions stay ended. Audited as `user_enabled`. */
export async function enableUser(
  ctx: ServiceContext,
  tenant_id: string,
  user_id: string,
  audit: { actor: string; ip: string | null },
): Promise<void> {
  const now = ctx.now();
  await inTransaction(ctx.db, async (tx) => {
    const rows = await tx.query(
      "UPDATE users SET disabled_at = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2::uuid RETURNING id",
      [tenant_id, uuid_pattern.test(user_id) ? user_id : null, now],
    );
    if (rows.length === 0) throw new DomainError("user_not_found", `no user ${user_id}`, "id");
    await recordSecurityEvent(
      tx,
      {
        tenant_id,
        actor: audit.actor,
        ip: audit.ip,
        action: "user_enabled",
        outcome: "success",
        subject: `user:${user_id}`,
      },
      now,
    );
  });
}

/**
 * Changes a user's role, party and whether it is disabled, each audited as its
 * own security event; a role change or disabling ends the user's sessions.
 */
export async function updateUser(
  ctx: ServiceContext,
  tenant_id: string,
  user_id: string,
  patch: { role?: Role | undefined; party_id?: string | null | undefined; disabled?: boolean | undefined },
  audit: { actor: string; ip: string | null },
): Promise<UserView> {
  const before = await findUserById(ctx.db, tenant_id, user_id);
  if (before === undefined) throw new DomainError("user_not_found", `no user ${user_id}`, "id");
  if (patch.role !== undefined || patch.party_id !== undefined) {
    const role = patch.role ?? before.role;
    const party_id =
      patch.party_id !== undefined ? patch.party_id : party_scoped_roles.has(role) ? before.party_id : null;
    await changeUserRole(ctx, tenant_id, user_id, { role, party_id }, audit);
  }
  if (patch.disabled === true && before.disabled_at === null)
    await disableUser(ctx, tenant_id, user_id, audit);
  if (patch.disabled === false && before.disabled_at !== null)
    await enableUser(ctx, tenant_id, user_id, audit);
  const after = await findUserById(ctx.db, tenant_id, user_id);
  assert(after !== undefined, "a user is never deleted");
  return userView(after);
}

export async function listUsers(db: Queryable, tenant_id: string): Promise<UserView[]> {
  return db.query<UserView & Record<string, unknown>>(
    `SELECT id::text, email, role, party_id, created_at, disabled_at FROM users
      WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 10000`,
    [tenant_id],
  );
}

/** The tenant's users in creation order, one cursor page. */
export async function listUsersPage(
  db: Queryable,
  tenant_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<UserView>> {
  const limit = pageLimit(options.limit, 50, users_page_max);
  const after =
    options.cursor === undefined ? null : decodeCursor("users", options.cursor, ["instant", "uuid"]);
  const rows = await db.query<UserView & Record<string, unknown>>(
    `SELECT id::text, email, role, party_id, created_at, disabled_at FROM users
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY created_at, id LIMIT $4`,
    [tenant_id, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  );
  return pageOf(rows, limit, "users", (row) => [new Date(row.created_at), row.id]);
}
