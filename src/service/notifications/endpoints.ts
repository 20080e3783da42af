import { assert } from "../../core/assert.ts";
import type { Principal } from "../../core/auth/roles.ts";
import { party_scoped_roles } from "../../core/auth/roles.ts";
import { readScopeOf } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid, newId } from "../../core/ids.ts";
import {
  endpoints_per_tenant_max,
  event_types_per_endpoint_max,
  rotation_overlap_seconds_default,
  rotation_overlap_seconds_max,
} from "../../core/limits.ts";
import { event_types } from "../../core/notifications/event-types.ts";
import { newWebhookSecret } from "../../core/notifications/webhook-signature.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import { transactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { selectPartyRow } from "../../store/parties-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { withReadScope } from "../../store/scoped.ts";
import {
  countEndpoints,
  type EndpointRow,
  insertEndpoint,
  rotateEndpointSecret,
  selectEndpoint,
  selectEndpointSecrets,
  selectEndpoints,
  updateEndpointRow,
} from "../../store/webhook-endpoints-sql.ts";
import type { ServiceContext } from "../context.ts";
import { checkWebhookHost, checkWebhookUrl } from "./address-guard.ts";
import { dispatcher_lock_class, latestSeq } from "./stream-batch.ts";
import { disableEndpoint } from "./webhook-record.ts";

// Webhook endpoints: per tenant, or per party for that party's own events. A
// party-scoped caller manages only its own party's endpoints; the secret is
// shown once, at creation and at each rotation.

export interface EndpointInput {
  url: string;
  event_types: string[];
  party_id?: string | null | undefined;
  description?: string | null | undefined;
}

export type EndpointView = EndpointRow;

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
      const party = await selectPartyRow(tx, tenant_id, party_id);
      if (party === undefined) throw new DomainError("party_not_found", `no party ${party_id}`, "party_id");
    }
    if ((await countEndpoints(tx, tenant_id)) >= endpoints_per_tenant_max)
      throw new DomainError(
        "webhook_endpoints_too_many",
        `a tenant may have at most ${endpoints_per_tenant_max} endpoints`,
      );
    // Wait out a fan-out round in flight, so the endpoint starts exactly after the events it has already passed.
    await transactionLock(tx, dispatcher_lock_class, tenant_id);
    const from_seq = await latestSeq(tx, tenant_id);
    return insertEndpoint(
      tx,
      tenant_id,
      {
        id: newId(),
        url: url.href,
        event_types: types,
        party_id,
        description: input.description ?? null,
        secret,
        from_seq,
        created_by: principal.actor,
      },
      now,
    );
  });
  return { ...view, secret };
}

/** An endpoint the caller may see, by its own filter and under row-level security; 404 otherwise. */
export async function getEndpoint(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<EndpointView> {
  if (!isUuid(id))
    throw new DomainError("webhook_endpoint_not_found", `no webhook endpoint ${id.slice(0, 80)}`, "id");
  const scope = readScopeOf(principal);
  const row = await withReadScope(ctx.db, scope, (tx) =>
    selectEndpoint(tx, scope.tenant_id, id, scope.party_id),
  );
  if (row === undefined)
    throw new DomainError("webhook_endpoint_not_found", `no webhook endpoint ${id}`, "id");
  return row;
}

/** The endpoints the caller may see, by id, one cursor page (a tenant has at most endpoints_per_tenant_max). */
export async function listEndpoints(
  ctx: ServiceContext,
  principal: Principal,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<EndpointView>> {
  const limit = pageLimit(options.limit, endpoints_per_tenant_max, endpoints_per_tenant_max);
  const [after_id] =
    options.cursor === undefined ? [null] : decodeCursor("webhook_endpoints", options.cursor, ["uuid"]);
  const scope = readScopeOf(principal);
  const rows = await withReadScope(ctx.db, scope, (tx) =>
    selectEndpoints(tx, scope.tenant_id, { party_id: scope.party_id, after_id, limit: limit + 1 }),
  );
  return pageOf(rows, limit, "webhook_endpoints", (row) => [row.id]);
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
    return updateEndpointRow(
      tx,
      principal.tenant_id,
      id,
      {
        url: url?.href ?? null,
        event_types: types ?? null,
        description: patch.description === undefined ? null : { value: patch.description },
        enable: patch.status === "enabled",
      },
      now,
    );
  });
}

/** A new secret; the old one keeps signing (alongside) until the overlap ends. */
export async function rotateSecret(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  overlap_s = rotation_overlap_seconds_default,
): Promise<EndpointView & { secret: string }> {
  if (!Number.isInteger(overlap_s) || overlap_s < 0 || overlap_s > rotation_overlap_seconds_max)
    throw new DomainError(
      "overlap_invalid",
      `overlap_seconds must be 0 to ${rotation_overlap_seconds_max}`,
      "overlap_seconds",
    );
  await getEndpoint(ctx, principal, id);
  const secret = newWebhookSecret();
  const now = ctx.now();
  const expires_at = new Date(now.getTime() + overlap_s * 1_000);
  const row = await rotateEndpointSecret(ctx.db, principal.tenant_id, id, secret, expires_at, now);
  return { ...row, secret };
}

/** Reads an endpoint's secrets as the owner (signing, tests). */
export async function endpointSecrets(
  db: Queryable,
  tenant_id: string,
  id: string,
): Promise<{ secret: string; previous_secret: string | null }> {
  const row = await selectEndpointSecrets(db, tenant_id, id);
  assert(row !== undefined, `no endpoint ${id}`);
  return row;
}
