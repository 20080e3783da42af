import { createHash, randomBytes } from "node:crypto";
import { assert } from "../../core/assert.ts";
import type { Principal } from "../../core/auth/roles.ts";
import { newId } from "../../core/ids.ts";
import { login_length_max, password_length_max } from "../../core/limits.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import {
  insertSession,
  revokeSession,
  selectUnrevokedSession,
  touchSession,
} from "../../store/sessions-sql.ts";
import type { ServiceContext } from "../context.ts";
import { decoy_password_hash, verifyPassword } from "./password.ts";
import { recordSecurityEvent } from "./security-events.ts";
import { clearAccountFailures, lockedUntil, recordLoginFailure, type ThrottleRules } from "./throttle.ts";
import { findUserById, findUserByLogin, type UserView, userView } from "./users.ts";

// Console sessions. The cookie carries a random 256-bit token; the database
// keeps only its SHA-256, so a leaked table opens no session. A login always
// starts a new session (rotation) and ends the one the browser came with.

export interface SessionRules {
  /** Absolute lifetime from login. */
  lifetime_ms: number;
  /** A session unused this long is refused. */
  idle_ms: number;
}

export const session_default: SessionRules = { lifetime_ms: 12 * 3_600_000, idle_ms: 2 * 3_600_000 };
const token_bytes = 32;
const last_seen_resolution_ms = 60_000;

export interface LoginRequest {
  tenant_id: string;
  login: string;
  password: string;
  ip: string;
  /** The session token the browser already had, ended by this login. */
  previous_token?: string | undefined;
}

export type LoginResult =
  | { outcome: "success"; user: UserView; token: string; csrf_token: string; expires_at: Date }
  | { outcome: "failure" }
  | { outcome: "locked"; retry_after_s: number };

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Checks a password, counting failures per account and per IP. An unknown
 * account runs scrypt on a decoy hash, so it costs the same as a wrong password.
 */
export async function login(
  ctx: ServiceContext,
  request: LoginRequest,
  rules: { throttle?: ThrottleRules; session?: SessionRules } = {},
): Promise<LoginResult> {
  const now = ctx.now();
  const login_name = request.login.slice(0, login_length_max).toLowerCase();
  const subjects = { account: `${request.tenant_id}:${login_name}`, ip: request.ip };
  const audit = { tenant_id: request.tenant_id, ip: request.ip, action: "login" as const };
  const locked = await lockedUntil(ctx.db, subjects, now);
  if (locked !== null) {
    await recordSecurityEvent(
      ctx.db,
      {
        ...audit,
        actor: `login:${login_name}`,
        outcome: "denied",
        subject: null,
        detail: { reason: "locked" },
      },
      now,
    );
    return {
      outcome: "locked",
      retry_after_s: Math.max(1, Math.ceil((locked.getTime() - now.getTime()) / 1000)),
    };
  }
  const user = await findUserByLogin(ctx.db, request.tenant_id, login_name);
  const password = request.password.slice(0, password_length_max);
  const matches = await verifyPassword(password, user?.password ?? decoy_password_hash);
  if (user === undefined || !matches || user.disabled_at !== null) {
    const lock = await inTransaction(ctx.db, async (tx) => {
      await recordSecurityEvent(
        tx,
        {
          ...audit,
          actor: `login:${login_name}`,
          outcome: "failure",
          subject: user === undefined ? null : `user:${user.id}`,
          detail: { reason: user?.disabled_at ? "disabled" : "bad_credentials" },
        },
        now,
      );
      return recordLoginFailure(tx, subjects, now, rules.throttle);
    });
    if (lock !== null)
      return { outcome: "locked", retry_after_s: Math.ceil((lock.getTime() - now.getTime()) / 1000) };
    return { outcome: "failure" };
  }
  const session_rules = rules.session ?? session_default;
  const token = randomBytes(token_bytes).toString("base64url");
  const csrf_token = randomBytes(token_bytes).toString("base64url");
  const expires_at = new Date(now.getTime() + session_rules.lifetime_ms);
  await inTransaction(ctx.db, async (tx) => {
    if (request.previous_token) await endSession(tx, request.previous_token, "rotated", now);
    await insertSession(tx, {
      tenant_id: user.tenant_id,
      id: newId(),
      user_id: user.id,
      token_sha256: sha256Hex(token),
      csrf_sha256: sha256Hex(csrf_token),
      created_at: now,
      expires_at,
      ip: request.ip.slice(0, 64),
    });
    await clearAccountFailures(tx, subjects.account, now);
    await recordSecurityEvent(
      tx,
      { ...audit, actor: `user:${user.id}`, outcome: "success", subject: `user:${user.id}` },
      now,
    );
  });
  return { outcome: "success", user: userView(user), token, csrf_token, expires_at };
}

async function endSession(tx: Queryable, token: string, reason: string, now: Date): Promise<string | null> {
  return revokeSession(tx, sha256Hex(token), now, reason);
}

export async function logout(
  ctx: ServiceContext,
  principal: Principal,
  token: string,
  ip: string,
): Promise<void> {
  const now = ctx.now();
  await inTransaction(ctx.db, async (tx) => {
    const user_id = await endSession(tx, token, "logout", now);
    if (user_id === null) return;
    await recordSecurityEvent(
      tx,
      {
        tenant_id: principal.tenant_id,
        actor: principal.actor,
        ip,
        action: "logout",
        outcome: "success",
        subject: `user:${user_id}`,
      },
      now,
    );
  });
}

export interface SessionPrincipal {
  principal: Principal;
  csrf_sha256: string;
  user: UserView;
  expires_at: Date;
}

/** The principal of a live session token, or null: unknown, revoked, expired, idle or disabled all look alike. */
export async function authenticateSession(
  db: Queryable,
  token: string,
  now: Date,
  rules = session_default,
): Promise<SessionPrincipal | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const token_sha256 = sha256Hex(token);
  const row = await selectUnrevokedSession(db, token_sha256);
  if (row === undefined || row.expires_at <= now) return null;
  if (now.getTime() - row.last_seen_at.getTime() > rules.idle_ms) return null;
  const user = await findUserById(db, row.tenant_id, row.user_id);
  if (user === undefined || user.disabled_at !== null) return null;
  assert(user.tenant_id === row.tenant_id, "session and user disagree on the tenant");
  if (now.getTime() - row.last_seen_at.getTime() > last_seen_resolution_ms) {
    await touchSession(db, token_sha256, now);
  }
  return {
    principal: {
      tenant_id: user.tenant_id,
      role: user.role,
      party_id: user.party_id,
      actor: `user:${user.id}`,
      user_id: user.id,
    },
    csrf_sha256: row.csrf_sha256,
    user: userView(user),
    expires_at: row.expires_at,
  };
}
