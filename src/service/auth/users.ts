import { assert } from "../../core/assert.ts";
import { isRole, party_scoped_roles, type Role } from "../../core/auth/roles.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import {
  password_length_max,
  password_length_min,
  users_listed_max,
  users_page_max,
} from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import type { Queryable } from "../../store/database.ts";
import { selectPartyRow } from "../../store/parties-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { revokeUserSessions } from "../../store/sessions-sql.ts";
import {
  insertUser,
  type StoredUserRow,
  selectUserById,
  selectUserByLogin,
  selectUsers,
  setUserDisabled,
  updateUserRole,
  userEmailTaken,
} from "../../store/users-sql.ts";
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
      const party = await selectPartyRow(tx, tenant_id, input.party_id);
      if (party === undefined)
        throw new DomainError("party_not_found", `no party ${input.party_id}`, "party_id");
    }
    if (email !== null) {
      if (await userEmailTaken(tx, tenant_id, email))
        throw new DomainError("user_exists", `a user with email ${email} exists`, "email");
    }
    await insertUser(
      tx,
      { tenant_id, id, email, role: input.role, party_id: input.party_id ?? null, password },
      now,
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

/** The user a login name (email or user id) names in the tenant, or undefined. */
export async function findUserByLogin(
  db: Queryable,
  tenant_id: string,
  login: string,
): Promise<UserRow | undefined> {
  const row = await selectUserByLogin(db, tenant_id, login.toLowerCase());
  return row === undefined ? undefined : toUserRow(row);
}

export async function findUserById(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<UserRow | undefined> {
  const row = await selectUserById(db, tenant_id, id);
  return row === undefined ? undefined : toUserRow(row);
}

function toUserRow(row: StoredUserRow): UserRow | undefined {
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
    await updateUserRole(
      tx,
      tenant_id,
      user_id,
      { role: change.role, party_id: change.party_id ?? null },
      now,
    );
    await revokeUserSessions(tx, tenant_id, user_id, "role_changed", now);
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
    if (!(await setUserDisabled(tx, tenant_id, user_id, true, now)))
      throw new DomainError("user_not_found", `no user ${user_id}`, "id");
    await revokeUserSessions(tx, tenant_id, user_id, "user_disabled", now);
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

/** Enables a disabled user again; its old sessions stay ended. Audited as `user_enabled`. */
export async function enableUser(
  ctx: ServiceContext,
  tenant_id: string,
  user_id: string,
  audit: { actor: string; ip: string | null },
): Promise<void> {
  const now = ctx.now();
  await inTransaction(ctx.db, async (tx) => {
    if (!(await setUserDisabled(tx, tenant_id, user_id, false, now)))
      throw new DomainError("user_not_found", `no user ${user_id}`, "id");
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

/** Every user of the tenant in creation order, up to users_listed_max (the CLI's list). */
export async function listUsers(db: Queryable, tenant_id: string): Promise<UserView[]> {
  return (await selectUsers(db, tenant_id, { after: null, limit: users_listed_max })) as UserView[];
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
  const rows = (await selectUsers(db, tenant_id, { after, limit: limit + 1 })) as UserView[];
  return pageOf(rows, limit, "users", (row) => [new Date(row.created_at), row.id]);
}
