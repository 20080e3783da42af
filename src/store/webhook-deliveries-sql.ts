import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// Queries of the `webhook_deliveries` table and its `webhook_attempts` as the
// API reads them (decisions §29). The sender's claims and outcome writes are
// still in service/notifications/webhook-sender.ts (see layering.test.ts).
// Run the reads on a scoped handle (store/scoped.ts).

export interface DeliveryRow {
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
}

/** A delivery row with its first attempt, which is kept on the delivery itself (migration 061). */
export interface DeliveryWithFirstAttemptRow extends DeliveryRow {
  first_attempt_started_at: Date | null;
  first_attempt_latency_ms: number | null;
  first_attempt_status_code: number | null;
  first_attempt_error: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: Date;
  latency_ms: number;
  status_code: number | null;
  error: string | null;
}

/** An endpoint's deliveries newest first (by id, a UUIDv7), those before `before_id`; `limit` rows. */
export function selectDeliveries(
  tx: Queryable,
  tenant_id: string,
  endpoint_id: string,
  filter: { before_id: string | null; status: string | null; limit: number },
): Promise<DeliveryWithFirstAttemptRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return tx.query<DeliveryWithFirstAttemptRow & Record<string, unknown>>(
    `SELECT id::text AS id, message_id, event_id::text AS event_id, type, sequence, status, attempts,
            CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, last_status_code, last_error,
            created_at, finished_at, first_attempt_started_at, first_attempt_latency_ms, first_attempt_status_code,
            first_attempt_error
       FROM webhook_deliveries
      WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::uuid IS NULL OR id < $3::uuid) AND ($4::text IS NULL OR status = $4)
      ORDER BY id DESC LIMIT $5`,
    [tenant_id, endpoint_id, filter.before_id, filter.status, filter.limit],
  );
}

/** Every attempt of these deliveries, by delivery then attempt. */
export function selectAttempts(
  tx: Queryable,
  tenant_id: string,
  delivery_ids: readonly string[],
): Promise<AttemptRow[]> {
  if (delivery_ids.length === 0) return Promise.resolve([]);
  return tx.query<AttemptRow & Record<string, unknown>>(
    `SELECT delivery_id::text AS delivery_id, attempt, started_at, latency_ms, status_code, error FROM webhook_attempts
      WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY delivery_id, attempt`,
    [tenant_id, delivery_ids],
  );
}

/** The endpoint of a delivery the handle can see; undefined when there is none. */
export async function selectDeliveryEndpoint(
  tx: Queryable,
  tenant_id: string,
  id: string,
): Promise<string | undefined> {
  const [row] = await tx.query<{ endpoint_id: string }>(
    "SELECT endpoint_id::text AS endpoint_id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2",
    [tenant_id, id],
  );
  return row?.endpoint_id;
}

/** Schedules a delivery again at `now`, whatever its status: the same body and webhook-id go out. */
export async function rescheduleDelivery(
  db: Queryable,
  tenant_id: string,
  id: string,
  now: Date,
): Promise<{ id: string; status: string; next_attempt_at: Date } | undefined> {
  const [row] = await db.query<{ id: string; status: string; next_attempt_at: Date }>(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, lease_until = NULL, finished_at = NULL
      WHERE tenant_id = $1 AND id = $2 RETURNING id::text AS id, status, next_attempt_at`,
    [tenant_id, id, now],
  );
  return row;
}
