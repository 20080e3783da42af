import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `webhook_deliveries` table's queries and its
// `webhook_attempts` (decisions §29): the sender's claims and outcome writes
// after a delivery's first attempt, and the API's reads. A delivery waiting
// for its first attempt is a `webhook_queue` row (webhook-queue-sql.ts,
// decisions §39), so the API's reads take both tables. Run the reads on a
// scoped handle (store/scoped.ts).

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
  // A queued delivery (its first attempt not recorded yet) is pending, due since it was made. Its id is the
  // one its delivery row will have, so a page boundary holds while a delivery leaves the queue.
  return tx.query<DeliveryWithFirstAttemptRow & Record<string, unknown>>(
    `SELECT id::text AS id, message_id, event_id::text AS event_id, type, sequence, status, attempts, next_attempt_at,
            last_status_code, last_error, created_at, finished_at, first_attempt_started_at, first_attempt_latency_ms,
            first_attempt_status_code, first_attempt_error
       FROM (SELECT q.id, q.event_id::text AS message_id, q.event_id, q.type, q.sequence, 'pending' AS status,
                    0 AS attempts, q.created_at AS next_attempt_at, NULL::int4 AS last_status_code, NULL::text AS last_error,
                    q.created_at, NULL::timestamptz AS finished_at, NULL::timestamptz AS first_attempt_started_at,
                    NULL::int4 AS first_attempt_latency_ms, NULL::int4 AS first_attempt_status_code,
                    NULL::text AS first_attempt_error
               FROM webhook_queue q
              WHERE q.tenant_id = $1 AND q.endpoint_id = $2 AND ($3::uuid IS NULL OR q.id < $3::uuid)
                AND ($4::text IS NULL OR $4 = 'pending')
              ORDER BY q.id DESC LIMIT $5) queued
     UNION ALL
     SELECT id::text AS id, message_id, event_id::text AS event_id, type, sequence, status, attempts, next_attempt_at,
            last_status_code, last_error, created_at, finished_at, first_attempt_started_at, first_attempt_latency_ms,
            first_attempt_status_code, first_attempt_error
       FROM (SELECT d.id, d.message_id, d.event_id, d.type, d.sequence, d.status, d.attempts,
                    CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at, d.last_status_code,
                    d.last_error, d.created_at, d.finished_at, d.first_attempt_started_at, d.first_attempt_latency_ms,
                    d.first_attempt_status_code, d.first_attempt_error
               FROM webhook_deliveries d
              WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND ($3::uuid IS NULL OR d.id < $3::uuid)
                AND ($4::text IS NULL OR d.status = $4)
              ORDER BY d.id DESC LIMIT $5) written
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
    `SELECT endpoint_id::text AS endpoint_id FROM webhook_queue WHERE tenant_id = $1 AND id = $2
     UNION ALL SELECT endpoint_id::text FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`,
    [tenant_id, id],
  );
  return row?.endpoint_id;
}

/**
 * Schedules a delivery again at `now`, whatever its status: the same body and webhook-id go out. A queued
 * delivery loses its lease, so any sender may claim it now. Undefined when the statement found it in neither
 * table, which a delivery leaving the queue as the statement ran also gives: the caller asks once more.
 */
export async function rescheduleDelivery(
  db: Queryable,
  tenant_id: string,
  id: string,
  now: Date,
): Promise<{ id: string; status: string; next_attempt_at: Date } | undefined> {
  const [row] = await db.query<{ id: string; status: string; next_attempt_at: Date }>(
    `WITH queued AS (
       UPDATE webhook_queue SET lease_until = NULL WHERE tenant_id = $1 AND id = $2 RETURNING id),
     written AS (
       UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, lease_until = NULL, finished_at = NULL
        WHERE tenant_id = $1 AND id = $2 RETURNING id, status, next_attempt_at)
     SELECT id::text AS id, 'pending' AS status, $3::timestamptz AS next_attempt_at FROM queued
     UNION ALL SELECT id::text, status, next_attempt_at FROM written`,
    [tenant_id, id, now],
  );
  return row;
}

/** A tenant's deliveries by state, for the notification status route. */
export async function selectDeliveryCounts(
  db: Queryable,
  tenant_id: string,
  now: Date,
): Promise<{
  pending: number;
  due: number;
  dead: number;
  succeeded: number;
  oldest_pending_at: Date | null;
}> {
  // Queued deliveries are pending and due (decisions §39).
  const [row] = await db.query<Record<string, bigint | Date | null>>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int8 AS pending,
            count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= $2)::int8 AS due,
            count(*) FILTER (WHERE status = 'dead')::int8 AS dead,
            count(*) FILTER (WHERE status = 'succeeded')::int8 AS succeeded,
            min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending_at
       FROM (SELECT status, next_attempt_at, created_at FROM webhook_deliveries WHERE tenant_id = $1
             UNION ALL SELECT 'pending', created_at, created_at FROM webhook_queue WHERE tenant_id = $1) d`,
    [tenant_id, now],
  );
  return {
    pending: Number(row?.pending ?? 0),
    due: Number(row?.due ?? 0),
    dead: Number(row?.dead ?? 0),
    succeeded: Number(row?.succeeded ?? 0),
    oldest_pending_at: (row?.oldest_pending_at as Date | null | undefined) ?? null,
  };
}

/** Deliveries waiting to be sent (first attempt or retry) over every tenant, for /metrics. */
export async function countPendingDeliveries(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: bigint | string }>(
    `SELECT ((SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')
             + (SELECT count(*) FROM webhook_queue))::int8 AS n`,
  );
  return Number(row?.n ?? 0);
}

/** Inserts a delivery due at once, not leased (a test message: any sender claims it). */
export async function insertDueDelivery(
  tx: Queryable,
  tenant_id: string,
  row: {
    id: string;
    endpoint_id: string;
    message_id: string;
    sequence: bigint;
    type: string;
    party_ids: readonly string[];
    body: string;
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, message_id, event_id, event_seq, sequence, type,
                                     party_ids, body, status, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6, $7::text[], $8, 'pending', $9, $9)`,
    [
      tenant_id,
      row.id,
      row.endpoint_id,
      row.message_id,
      row.sequence,
      row.type,
      row.party_ids,
      row.body,
      now,
    ],
  );
}

/**
 * A delivery's body from its event `e` and its endpoint sequence number: Standard Webhooks' payload, our id and
 * sequence. The one expression that makes a body of an event (fan-out, claims), so every attempt sends the same
 * bytes: the event row never changes and the sequence number is fixed at fan-out.
 */
export const webhook_body_sql = (sequence: string) =>
  `'{"id":' || to_json(e.id::text)::text || ',"type":' || to_json(e.type)::text || ',"timestamp":"'
     || to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '","sequence":'
     || (${sequence})::text || ',"data":' || e.payload::text || '}'`;

/** A delivery leased by a claim, with what sending it needs of its endpoint. */
export type ClaimedDeliveryRow = {
  id: string;
  endpoint_id: string;
  message_id: string;
  type: string;
  body: string;
  attempts: number;
  url: string;
  party_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  /** Claimed from webhook_queue: its first attempt writes the delivery row (decisions §39). */
  queued: boolean;
};

/**
 * Leases until `lease_until` the due deliveries of enabled endpoints (at most `limit`, skipping rows another
 * transaction holds and unlapsed leases): first attempts due by `now`, retries due by `retries_due_by`.
 */
export function claimDueDeliveries(
  tx: Queryable,
  tenant_id: string,
  claim: { now: Date; limit: number; lease_until: Date; retries_due_by: Date },
): Promise<ClaimedDeliveryRow[]> {
  assert(claim.lease_until.getTime() > claim.now.getTime(), "a claim leases into the future");
  // One statement: pick the due rows, lease them, return them. The ids go through ARRAY(...) so the lease
  // is a primary-key lookup whatever the planner thinks of the table's size: a queue table grows faster
  // than its statistics, and a join planned for one row compared every pending row with every claimed one.
  return tx.query<ClaimedDeliveryRow & Record<string, unknown>>(
    `WITH leased AS (
       UPDATE webhook_deliveries d SET lease_until = $4
        WHERE d.tenant_id = $1 AND d.id = ANY(ARRAY(
          SELECT c.id FROM webhook_deliveries c
           WHERE c.tenant_id = $1 AND c.status = 'pending' AND c.next_attempt_at <= $2
             AND (c.attempts = 0 OR c.next_attempt_at <= $5) AND (c.lease_until IS NULL OR c.lease_until <= $2)
             AND c.endpoint_id = ANY(ARRAY(SELECT w.id FROM webhook_endpoints w WHERE w.tenant_id = $1 AND w.status = 'enabled'))
           ORDER BY c.next_attempt_at, c.id LIMIT $3 FOR UPDATE SKIP LOCKED))
       RETURNING d.id, d.endpoint_id, d.message_id, d.type, d.body, d.event_id, d.sequence, d.attempts, d.next_attempt_at)
     SELECT l.id::text AS id, l.endpoint_id::text AS endpoint_id, l.message_id, l.type,
            coalesce(l.body, ${webhook_body_sql("l.sequence")}) AS body, l.attempts,
            false AS queued, w.url, w.party_id, w.secret, w.previous_secret, w.previous_secret_expires_at
       FROM leased l JOIN webhook_endpoints w ON w.tenant_id = $1 AND w.id = l.endpoint_id
       LEFT JOIN events e ON e.tenant_id = $1 AND e.id = l.event_id AND l.body IS NULL
      ORDER BY l.next_attempt_at, l.id`,
    [tenant_id, claim.now, claim.limit, claim.lease_until, claim.retries_due_by],
  );
}

/** Gives pending deliveries back unsent: their lease goes, nothing else changes. */
export async function releaseDeliveryLeases(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    "UPDATE webhook_deliveries SET lease_until = NULL WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending'",
    [tenant_id, ids],
  );
}

/** One sent delivery's attempt and the state it moves the delivery to. */
export interface DeliveryOutcome {
  id: string;
  /** Attempts before this one: 0 for a first attempt. */
  attempts_before: number;
  status: "pending" | "succeeded" | "dead";
  /** When a retry is due (status pending); null otherwise. */
  next_attempt_at: Date | null;
  status_code: number | null;
  latency_ms: number;
  /** The delivery's last error (null when it succeeded). */
  error: string | null;
  /** The attempt's own error, as the transport saw it. */
  attempt_error: string | null;
  /** The id of the `webhook_attempts` row of an attempt after the first; null for a first attempt. */
  attempt_id: string | null;
}

/**
 * Records attempts that started at `started_at` in one round trip: a first attempt on its delivery row
 * (migration 061), later ones as `webhook_attempts` rows, and each delivery's new state, lease dropped.
 * The rows are found by primary key through `id = ANY(ARRAY(...))`, as the claim finds them: joined to the
 * `unnest` alone, the planner read every delivery of the tenant into a hash table (a queue table outgrows
 * its statistics, and a new tenant has none), so each record cost more as the table grew (decisions §37).
 */
export async function recordDeliveryOutcomes(
  tx: Queryable,
  tenant_id: string,
  outcomes: readonly DeliveryOutcome[],
  started_at: Date,
  now: Date,
): Promise<void> {
  if (outcomes.length === 0) return;
  const later = outcomes.filter((outcome) => outcome.attempts_before > 0);
  for (const outcome of later)
    assert(outcome.attempt_id !== null, `attempt ${outcome.attempts_before + 1} has an id`);
  await tx.query(
    `WITH attempts AS (
       INSERT INTO webhook_attempts (tenant_id, id, delivery_id, attempt, started_at, latency_ms, status_code, error)
       SELECT $1, a.id, a.delivery_id, a.attempt, $8, a.latency_ms, a.status_code, a.attempt_error
         FROM unnest($9::uuid[], $10::uuid[], $11::int4[], $12::int4[], $13::int4[], $14::text[])
           AS a(id, delivery_id, attempt, latency_ms, status_code, attempt_error)
       RETURNING 1)
     UPDATE webhook_deliveries d SET status = u.status, attempts = d.attempts + 1, lease_until = NULL,
            next_attempt_at = coalesce(u.next_at, d.next_attempt_at), last_status_code = u.code, last_error = u.error,
            finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE $2::timestamptz END,
            first_attempt_started_at = CASE WHEN d.attempts = 0 THEN $8 ELSE d.first_attempt_started_at END,
            first_attempt_latency_ms = CASE WHEN d.attempts = 0 THEN u.latency_ms ELSE d.first_attempt_latency_ms END,
            first_attempt_status_code = CASE WHEN d.attempts = 0 THEN u.code ELSE d.first_attempt_status_code END,
            first_attempt_error = CASE WHEN d.attempts = 0 THEN u.attempt_error ELSE d.first_attempt_error END
       FROM unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::int4[], $7::text[], $15::int4[], $16::text[])
         AS u(id, status, next_at, code, error, latency_ms, attempt_error)
      WHERE d.tenant_id = $1 AND d.id = ANY(ARRAY(SELECT unnest($3::uuid[]))) AND d.id = u.id`,
    [
      tenant_id,
      now,
      outcomes.map((outcome) => outcome.id),
      outcomes.map((outcome) => outcome.status),
      outcomes.map((outcome) => outcome.next_attempt_at),
      outcomes.map((outcome) => outcome.status_code),
      outcomes.map((outcome) => outcome.error),
      started_at,
      later.map((outcome) => outcome.attempt_id),
      later.map((outcome) => outcome.id),
      later.map((outcome) => outcome.attempts_before + 1),
      later.map((outcome) => outcome.latency_ms),
      later.map((outcome) => outcome.status_code),
      later.map((outcome) => outcome.attempt_error),
      outcomes.map((outcome) => outcome.latency_ms),
      outcomes.map((outcome) => outcome.attempt_error),
    ],
  );
}
