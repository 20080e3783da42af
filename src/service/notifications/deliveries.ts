import { assert } from "../../core/assert.ts";
import type { Principal } from "../../core/auth/roles.ts";
import { readScopeOf } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import {
  deliveries_page_items_default,
  deliveries_page_items_max,
  delivery_attempts_shown_max,
} from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import { withReadScope } from "../../store/scoped.ts";
import {
  type DeliveryRow,
  rescheduleDelivery,
  selectAttempts,
  selectDeliveries,
  selectDeliveryEndpoint,
} from "../../store/webhook-deliveries-sql.ts";
import type { ServiceContext } from "../context.ts";
import { getEndpoint } from "./endpoints.ts";

// An endpoint's deliveries, newest first, each with its attempts (status code,
// latency, error); and redelivery by hand, with the same webhook-id.

export type DeliveryView = DeliveryRow & {
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
): Promise<Page<DeliveryView>> {
  // The page's bounds first: a bad limit or cursor is the request's fault whatever the endpoint.
  const limit = pageLimit(options.limit, deliveries_page_items_default, deliveries_page_items_max);
  const [before_id] =
    options.cursor === undefined ? [null] : decodeCursor("webhook_deliveries", options.cursor, ["uuid"]);
  await getEndpoint(ctx, principal, endpoint_id);
  const scope = readScopeOf(principal);
  return withReadScope(ctx.db, scope, async (tx) => {
    const rows = await selectDeliveries(tx, scope.tenant_id, endpoint_id, {
      before_id,
      status: options.status ?? null,
      limit: limit + 1,
    });
    const page = pageOf(rows, limit, "webhook_deliveries", (row) => [row.id]);
    const attempts = await selectAttempts(
      tx,
      scope.tenant_id,
      page.items.map((row) => row.id),
    );
    const by_delivery = new Map<string, DeliveryView["attempt_log"]>();
    // The first attempt is on the delivery (decisions §30); deliveries made before that have it as a row.
    for (const row of page.items)
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
      if (list.length < delivery_attempts_shown_max) list.push(attempt);
      by_delivery.set(delivery_id, list);
    }
    return {
      items: page.items.map(
        ({
          first_attempt_started_at: _started_at,
          first_attempt_latency_ms: _latency_ms,
          first_attempt_status_code: _status_code,
          first_attempt_error: _error,
          ...row
        }) => ({ ...row, attempt_log: by_delivery.get(row.id) ?? [] }),
      ),
      next_cursor: page.next_cursor,
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
  const endpoint_id = await withReadScope(ctx.db, scope, (tx) =>
    selectDeliveryEndpoint(tx, scope.tenant_id, id),
  );
  if (endpoint_id === undefined) throw missing();
  const endpoint = await getEndpoint(ctx, principal, endpoint_id);
  if (endpoint.status !== "enabled")
    throw new DomainError(
      "webhook_endpoint_disabled",
      "the endpoint is disabled; enable it before redelivering",
      "id",
    );
  // A queued delivery whose first attempt is recorded while the statement runs is in neither table for
  // that statement's snapshot (decisions §39); the second statement finds its delivery row.
  const rescheduled =
    (await rescheduleDelivery(ctx.db, scope.tenant_id, id, ctx.now())) ??
    (await rescheduleDelivery(ctx.db, scope.tenant_id, id, ctx.now()));
  assert(rescheduled !== undefined, "a delivery the caller could see is there to reschedule");
  return rescheduled;
}
