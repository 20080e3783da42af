import { assert } from "../../core/assert.ts";
import type { Principal } from "../../core/auth/roles.ts";
import { party_scoped_roles } from "../../core/auth/roles.ts";
import { readScopeOf } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid, newId } from "../../core/ids.ts";
import { event_types } from "../../core/notifications/event-types.ts";
import { newWebhookSecret } from "../../core/notifications/webhook-signature.ts";
import { transactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ServiceContext } from "../context.ts";
import { checkWebhookHost, checkWebhookUrl } from "./address-guard.ts";
import { dispatcher_lock_class, latestSeq } from "./stream-batch.ts";
import { disableEndpoint } from "./webhook-sender.ts";

// Webhook endpoints: per tenant, or per party for that party's own events. A
// party-scoped caller manages only its own party's endpoints; the secret is
// shown once, at creation and at each rotation.

export const event_types_per_endpoint_max = 50;
export const endpoints_per_tenant_max = 100;
export const rotation_overlap_s_default = 24 * 3_600;
export const rotation_overlap_s_max = 7 * 24 * 3_600;
export const description_length_max = 500;

export interface EndpointInput {
  url: string;
  event_types: string[];
  party_id?: string | null | undefined;
  description?: string | null | undefined;
}

export type EndpointView = {
  id: string;
  url: string;
  event_types: string[];
  party_id: string | null;
  description: string | null;
  status: "enabled" | "disabled";
  disabled_reason: string | null;
  last_sequence: bigint;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

const view_columns = `id::text AS id, url, event_types, party_id, description, status, disabled_reason, last_sequence,
  previous_secret_expires_at, created_at, updated_at`;

export function checkEventTypes(types: readonly string[]): string[] {
  if (types.length === 0)
    throw new DomainError(
      "event_types_empty",
      'event_types must name at least one event type, or "*"',
      "event_types",
    );
  if (types.length > event_types_per_endpoint_max)
    throw new DomainError(
      "event_types_too_many",
      `event_types may list at most ${event_types_per_endpoint_max} types, got ${types.length}`,
      "event_types",
    );
  for (const type of types) {
    if (type === "*") continue;
    const spec = event_types.get(type);
    if (spec === undefined || !spec.webhook)
      throw new DomainError(
        "event_type_unknown",
        `event type ${JSON.stringify(type).slice(0, 80)} is not one a webhook can subscribe to (GET /v1/event-types lists them)`,
        "event_types",
      );
  }
  return [...new Set(types)].sort();
}

/** The party an endpoint belongs to: forced to the caller's own for party-scoped roles. */
function ownerParty(principal: Principal, requested: string | null | undefined): string | null {
  if (party_scoped_roles.has(principal.role)) {
    assert(principal.party_id !== null, "a party-scoped principal has a party");
    if (requested != null && requested !== principal.party_id)
      throw new DomainError("party_not_found", `no party ${requested}`, "party_id");
    return principal.party_id;
  }
  return requested ?? null;
}

export async function createEndpoint(
  ctx: ServiceContext,
  principal: Principal,
  input: EndpointInput,
): Promise<EndpointView & { secret: string }> {
  const url = checkWebhookUrl(input.url);
  await checkWebhookHost(url);
  const types = checkEventTypes(input.event_types);
  const party_id = ownerParty(principal, input.party_id);
  const tenant_id = principal.tenant_id;
  const secret = newWebhookSecret();
  const now = ctx.now();
  const view = await inTransaction(ctx.db, async (tx) => {
    if (party_id !== null) {
      const party = await tx.query("SELECT 1 FROM parties WHERE tenant_id = $1 AND id = $2", [
        tenant_id,
        party_id,
      ]);
      if (party.length === 0) throw new DomainError("party_not_found", `no party ${party_id}`, "party_id");
    }
    const [count] = await tx.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM webhook_endpoints WHERE tenant_id = $1",
      [tenant_id],
    );
    if (BigInt(count?.n ?? 0n) >= BigInt(endpoints_per_tenant_max))
      throw new DomainError(
        "webhook_endpoints_too_many",
        `a tenant may have at most ${endpoints_per_tenant_max} endpoints`,
      );
    // Wait out a fan-out round in flight, so the endpoint starts exactly after the events it has already passed.
    await transactionLock(tx, dispatcher_lock_class, tenant_id);
    const from_seq = await latestSeq(tx, tenant_id);
    const rows = await tx.query<EndpointView>(
      `INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, party_id, description, secret, status, from_seq,
                                      created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7, 'enabled', $8, $9, $10, $10) RETURNING ${view_columns}`,
      [
        tenant_id,
        newId(),
        url.href,
        types,
        party_id,
        input.description ?? null,
        secret,
        from_seq,
        principal.actor,
        now,
      ],
    );
    return rows[0]!;
  });
  return { ...view, secret };
}

/** An endpoint the caller may see, read under row-level security; 404 otherwise. */
export async function getEndpoint(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<EndpointView> {
  if (!isUuid(id))
    throw new DomainError("webhook_endpoint_not_found", `no webhook endpoint ${id.slice(0, 80)}`, "id");
  const rows = await withReadScope(ctx.db, readScopeOf(principal), (tx) =>
    tx.query<EndpointView>(
      `SELECT ${view_columns} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2::uuid`,
      [principal.tenant_id, id],
    ),
  );
  const row = rows[0];
  if (row === undefined)
    throw new DomainError("webhook_endpoint_not_found", `no webhook endpoint ${id}`, "id");
  return row;
}

export async function listEndpoints(ctx: ServiceContext, principal: Principal): Promise<EndpointView[]> {
  const scope = readScopeOf(principal);
  return withReadScope(ctx.db, scope, (tx) =>
    tx.query<EndpointView>(
      `SELECT ${view_columns} FROM webhook_endpoints
        WHERE tenant_id = $1 AND ($2::text IS NULL OR party_id = $2) ORDER BY id LIMIT $3`,
      [scope.tenant_id, scope.party_id, endpoints_per_tenant_max],
    ),
  );
}

export interface EndpointPatch {
  url?: string;
  event_types?: string[];
  description?: string | null;
  status?: "enabled" | "disabled";
}

export async function updateEndpoint(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  patch: EndpointPatch,
): Promise<EndpointView> {
  await getEndpoint(ctx, principal, id);
  const url = patch.url === undefined ? undefined : checkWebhookUrl(patch.url);
  if (url !== undefined) await checkWebhookHost(url);
  const types = patch.event_types === undefined ? undefined : checkEventTypes(patch.event_types);
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    if (patch.status === "disabled")
      await disableEndpoint(tx, principal.tenant_id, id, `disabled by ${principal.actor}`, now);
    const rows = await tx.query<EndpointView>(
      `UPDATE webhook_endpoints SET url = coalesce($3, url), event_types = coalesce($4::text[], event_types),
              description = CASE WHEN $5::boolean THEN $6 ELSE description END,
              status = CASE WHEN $7::text = 'enabled' THEN 'enabled' ELSE status END,
              disabled_reason = CASE WHEN $7::text = 'enabled' THEN NULL ELSE disabled_reason END,
              updated_at = $8
        WHERE tenant_id = $1 AND id = $2 RETURNING ${view_columns}`,
      [
        principal.tenant_id,
        id,
        url?.href ?? null,
        types ?? null,
        patch.description !== undefined,
        patch.description ?? null,
        patch.status ?? null,
        now,
      ],
    );
    return rows[0]!;
  });
}

/** A new secret; the old one keeps signing (alongside) until the overlap ends. */
export async function rotateSecret(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  overlap_s = rotation_overlap_s_default,
): Promise<EndpointView & { secret: string }> {
  if (!Number.isInteger(overlap_s) || overlap_s < 0 || overlap_s > rotation_overlap_s_max)
    throw new DomainError(
      "overlap_invalid",
      `overlap_seconds must be 0 to ${rotation_overlap_s_max}`,
      "overlap_seconds",
    );
  await getEndpoint(ctx, principal, id);
  const secret = newWebhookSecret();
  const now = ctx.now();
  const rows = await ctx.db.query<EndpointView>(
    `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3, updated_at = $5
      WHERE tenant_id = $1 AND id = $2 RETURNING ${view_columns}`,
    [principal.tenant_id, id, secret, new Date(now.getTime() + overlap_s * 1_000), now],
  );
  return { ...rows[0]!, secret };
}

/** Reads an endpoint's secrets as the owner (signing, tests). */
export async function endpointSecrets(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<{ secret: string; previous_secret: string | null }> {
  const [row] = await db.query<{ secret: string; previous_secret: string | null }>(
    "SELECT secret, previous_secret FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
    [tenant_id, id],
  );
  assert(row !== undefined, `no endpoint ${id}`);
  return row;
}
