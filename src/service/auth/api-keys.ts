import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isRole, type Principal, party_scoped_roles, type Role } from "../../core/auth/roles.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { api_keys_page_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import {
  insertApiKey,
  revokeApiKeyRow,
  selectApiKeys,
  selectKeyForAuthentication,
  touchApiKey,
} from "../../store/api-keys-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { selectPartyRow } from "../../store/parties-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { recordSecurityEvent } from "./security-events.ts";
import { findUserById } from "./users.ts";

// API keys look like `cs_live_<id>_<secret>`. The id finds the row; only the
// SHA-256 of the secret is stored, and it is compared in constant time.

const key_pattern = /^cs_live_([a-z0-9]{16})_([A-Za-z0-9]{32})$/;
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Compared against when the id is unknown, so both failures cost the same.
const decoy_sha256 = Buffer.alloc(32, 0x5a);

export interface ApiKeyInput {
  name: string;
  /** Optional with `user_id`: the key then takes its user's role, and must not name another. */
  role?: Role | undefined;
  /** The user this key is issued for: it acts as that user (role, party, and person for four eyes). */
  user_id?: string | null | undefined;
  party_id?: string | null | undefined;
  expires_at?: Date | null | undefined;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  party_id: string | null;
  user_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

function randomText(length: number, chars: string): string {
  const bytes = randomBytes(length * 2);
  let text = "";
  for (let i = 0; text.length < length && i < bytes.length; i++) {
    const byte = bytes[i]!;
    // Reject bytes past the largest multiple of the alphabet size: no modulo bias.
    if (byte < 256 - (256 % chars.length)) text += chars[byte % chars.length];
  }
  return text.length === length ? text : randomText(length, chars);
}

export interface AuditContext {
  /** `key:<id>`, `user:<id>` or `cli:<os user>`. */
  actor: string;
  ip: string | null;
}

const system_audit: AuditContext = { actor: "system", ip: null };

export async function createApiKey(
  ctx: ServiceContext,
  tenant_id: string,
  input: ApiKeyInput,
  audit: AuditContext = system_audit,
): Promise<{ key: string; api_key: ApiKeyView }> {
  if (input.user_id != null) input = await forUser(ctx.db, tenant_id, input);
  else if (input.role === undefined)
    throw new DomainError(
      "role_invalid",
      "role is required unless user_id names the user the key acts as",
      "role",
    );
  if (!isRole(input.role))
    throw new DomainError("role_invalid", `role ${JSON.stringify(input.role)} is not a role`, "role");
  if (party_scoped_roles.has(input.role) && !input.party_id) {
    throw new DomainError("party_required", `a ${input.role} key must name its party_id`, "party_id");
  }
  if (typeof input.name !== "string" || input.name.length < 1 || input.name.length > 200) {
    throw new DomainError("name_invalid", "name must be 1 to 200 characters", "name");
  }
  const id = randomText(16, "abcdefghijklmnopqrstuvwxyz0123456789");
  const secret = randomText(32, alphabet);
  const now = ctx.now();
  if (input.party_id) {
    const party = await selectPartyRow(ctx.db, tenant_id, input.party_id);
    if (party === undefined)
      throw new DomainError("party_not_found", `no party ${input.party_id}`, "party_id");
  }
  if (input.expires_at != null && input.expires_at <= now)
    throw new DomainError("expires_at_invalid", "expires_at must be in the future", "expires_at");
  const role = input.role; // Checked above; a closure does not keep the narrowing of a reassigned parameter.
  await inTransaction(ctx.db, async (tx) => {
    await insertApiKey(
      tx,
      {
        tenant_id,
        id,
        secret_sha256: sha256Hex(secret),
        name: input.name,
        role,
        party_id: input.party_id ?? null,
        expires_at: input.expires_at ?? null,
        created_by: audit.actor,
        user_id: input.user_id ?? null,
      },
      now,
    );
    await recordSecurityEvent(
      tx,
      {
        tenant_id,
        actor: audit.actor,
        ip: audit.ip,
        action: "api_key_created",
        outcome: "success",
        subject: `key:${id}`,
        detail: {
          name: input.name,
          role: input.role,
          party_id: input.party_id ?? null,
          user_id: input.user_id ?? null,
        },
      },
      now,
    );
  });
  return {
    key: `cs_live_${id}_${secret}`,
    api_key: {
      id,
      name: input.name,
      role: input.role,
      party_id: input.party_id ?? null,
      user_id: input.user_id ?? null,
      created_at: now,
      last_used_at: null,
      expires_at: input.expires_at ?? null,
      revoked_at: null,
      revoked_reason: null,
    },
  };
}

/** A key for a user takes the user's role and party; naming another role or party is refused. */
async function forUser(db: Queryable, tenant_id: string, input: ApiKeyInput): Promise<ApiKeyInput> {
  const user_id = String(input.user_id);
  const user = isUuid(user_id) ? await findUserById(db, tenant_id, user_id) : undefined;
  if (user === undefined || user.disabled_at !== null)
    throw new DomainError("user_not_found", `no active user ${user_id}`, "user_id");
  if (input.role !== undefined && input.role !== user.role) {
    throw new DomainError(
      "api_key_role_mismatch",
      `user ${user_id} is a ${user.role}; a key issued for them acts as them, so leave role out or send ${user.role}`,
      "role",
    );
  }
  if (input.party_id != null && input.party_id !== user.party_id)
    throw new DomainError(
      "api_key_party_mismatch",
      `user ${user_id} does not belong to party ${input.party_id}`,
      "party_id",
    );
  return { ...input, role: user.role, party_id: user.party_id };
}

/** Resolves a bearer token to its principal, or null. Unknown ids and wrong secrets take the same path. */
export async function authenticateApiKey(db: Queryable, token: string, now: Date): Promise<Principal | null> {
  const match = key_pattern.exec(token);
  const id = match?.[1] ?? "";
  const secret = match?.[2] ?? "";
  const row = match ? await selectKeyForAuthentication(db, id) : undefined;
  const stored = row ? Buffer.from(row.secret_sha256, "hex") : decoy_sha256;
  const equal = timingSafeEqual(stored, createHash("sha256").update(secret).digest());
  if (!row || !equal || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now))
    return null;
  if (!isRole(row.role)) return null;
  // A key issued for a user acts as that user, today: their current role and
  // party, and nothing once they are disabled.
  let principal: Principal = {
    tenant_id: row.tenant_id,
    role: row.role,
    party_id: row.party_id,
    actor: `key:${row.id}`,
  };
  if (row.user_id !== null) {
    const user = await findUserById(db, row.tenant_id, row.user_id);
    if (user === undefined || user.disabled_at !== null) return null;
    principal = { ...principal, role: user.role, party_id: user.party_id, user_id: user.id };
  }
  if (row.last_used_at === null || now.getTime() - row.last_used_at.getTime() > 60_000) {
    // Recorded at most once a minute per key, so authentication adds no write per request.
    await touchApiKey(db, row.id, now);
  }
  return principal;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The tenant's keys, newest first, a page at a time. Secrets are never returned: only their hashes exist. */
export async function listApiKeys(
  db: Queryable,
  tenant_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined; include_revoked: boolean },
): Promise<Page<ApiKeyView>> {
  const limit = pageLimit(options.limit, 100, api_keys_page_max);
  const after =
    options.cursor === undefined ? null : decodeCursor("api_keys", options.cursor, ["instant", "id"]);
  const rows = (await selectApiKeys(db, tenant_id, {
    include_revoked: options.include_revoked,
    before: after,
    limit: limit + 1,
  })) as ApiKeyView[];
  return pageOf(rows, limit, "api_keys", (row) => [row.created_at, row.id]);
}

/**
 * Revokes a key of the tenant. Another tenant's key id is `api_key_not_found`,
 * exactly like an id that does not exist. Revoking twice keeps the first reason.
 */
export async function revokeApiKey(
  ctx: ServiceContext,
  tenant_id: string,
  id: string,
  reason: string,
  audit: AuditContext = system_audit,
): Promise<ApiKeyView> {
  if (reason.length > 500)
    throw new DomainError("reason_invalid", "reason must be at most 500 characters", "reason");
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    const row = (await revokeApiKeyRow(tx, tenant_id, id, { reason, revoked_by: audit.actor }, now)) as
      | ApiKeyView
      | undefined;
    if (row === undefined) throw new DomainError("api_key_not_found", `no API key ${id}`, "id");
    await recordSecurityEvent(
      tx,
      {
        tenant_id,
        actor: audit.actor,
        ip: audit.ip,
        action: "api_key_revoked",
        outcome: "success",
        subject: `key:${id}`,
        detail: { reason },
      },
      now,
    );
    return row;
  });
}
