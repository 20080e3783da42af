import type { Principal } from "../../core/auth/roles.ts";
import { readScopeOf } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ServiceContext } from "../context.ts";
import { getEndpoint } from "./endpoints.ts";

// An endpoint's deliveries, newest first, each with its attempts (status code,
// latency, error); and redelivery by hand, with the same webhook-id.

export const deliveries_page_max = 100;
const attempts_shown_max = 20;

export type DeliveryView = {
  id: string;
  message_id: string;
  event_id: string | null;
  type: string;
  sequence: bigint;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
  attempt_log: {
    attempt: number;
    started_at: Date;
    latency_ms: number;
    status_code: number | null;
    error: string | null;
  }[];
};

export async function listDeliveries(
  ctx: ServiceContext,
  principal: Principal,
  endpoint_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined; status?: string | undefined },
): Promise<{ items: DeliveryView[]; next_cursor: string | null }> {
  await getEndpoint(ctx, principal, endpoint_id);
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > deliveries_page_max)
    throw new DomainError("limit_invalid", `limit must be 1 to ${deliveries_page_max}`, "limit");
  const before = options.cursor === undefined ? null : Buffer.from(options.cursor, "base64url").toString();
  if (before !== null && !isUuid(before))
    throw new DomainError("cursor_invalid", "cursor is not one this API returned", "cursor");
  const scope = readScopeOf(principal);
  return withReadScope(ctx.db, scope, async (tx) => {
    const rows = await tx.query<
      Omit<DeliveryView, "attempt_log"> & {
        first_attempt_started_at: Date | null;
        first_attempt_latency_ms: number | null;
        first_attempt_status_code: number | null;
        first_attempt_error: string | null;
      }
    >(
      `SELECT id::text AS id, message_id, event_id::text AS event_id, type, sequence, status, attempts,
              CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, last_status_code, last_error,
              created_at, finished_at, first_attempt_started_at, first_attempt_latency_ms, first_attempt_status_code,
              first_attempt_error
         FROM webhook_deliveries
        WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::uuid IS NULL OR id < $3::uuid) AND ($4::text IS NULL OR status = $4)
        ORDER BY id DESC LIMIT $5`,
      [scope.tenant_id, endpoint_id, before, options.status ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const attempts = await tx.query<DeliveryView["attempt_log"][number] & { delivery_id: string }>(
      `SELECT delivery_id::text AS delivery_id, attempt, started_at, latency_ms, status_code, error FROM webhook_attempts
        WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY delivery_id, attempt`,
      [scope.tenant_id, page.map((row) => row.id)],
    );
    const by_delivery = new Map<string, DeliveryView["attempt_log"]>();
    // The first attempt is on the delivery (decisions §30); deliveries made before that have it as a row.
    for (const row of page)
      if (row.first_attempt_started_at !== null)
        by_delivery.set(row.id, [
          {
            attempt: 1,
            started_at: row.first_attempt_started_at,
            latency_ms: row.first_attempt_latency_ms ?? 0,
            status_code: row.first_attempt_status_code,
            error: row.first_attempt_error,
          },
        ]);
    for (const { delivery_id, ...attempt } of attempts) {
      const list = by_delivery.get(delivery_id) ?? [];
      if (list.length < attempts_shown_max) list.push(attempt);
      by_delivery.set(delivery_id, list);
    }
    const last = page.at(-1);
    return {
      items: page.map(
        ({
          first_attempt_started_at: _started_at,
          first_attempt_latency_ms: _latency_ms,
          first_attempt_status_code: _status_code,
          first_attempt_error: _error,
          ...row
        }) => ({ ...row, attempt_log: by_delivery.get(row.id) ?? [] }),
      ),
      next_cursor:
        rows.length > limit && last !== undefined ? Buffer.from(last.id).toString("base64url") : null,
    };
  });
}

/** Schedules a delivery again now, whatever its status; the same body and webhook-id go out. */
export async function retryDelivery(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<{ id: string; status: string; next_attempt_at: Date }> {
  const missing = () =>
    new DomainError("webhook_delivery_not_found", `no webhook delivery ${id.slice(0, 80)}`, "id");
  if (!isUuid(id)) throw missing();
  const scope = readScopeOf(principal);
  const visible = await withReadScope(ctx.db, scope, (tx) =>
    tx.query<{ endpoint_id: string }>(
      "SELECT endpoint_id::text AS endpoint_id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2",
      [scope.tenant_id, id],
    ),
  );
  if (visible[0] === undefined) throw missing();
  const endpoint = await getEndpoint(ctx, principal, visible[0].endpoint_id);
  if (endpoint.status !== "enabled")
    throw new DomainError(
      "webhook_endpoint_disabled",
      "the endpoint is disabled; enable it before redelivering",
      "id",
    );
  const now = ctx.now();
  const rows = await ctx.db.query<{ id: string; status: string; next_attempt_at: Date }>(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, lease_until = NULL, finished_at = NULL
      WHERE tenant_id = $1 AND id = $2 RETURNING id::text AS id, status, next_attempt_at`,
    [scope.tenant_id, id, now],
  );
  return rows[0]!;
}
