import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";
import { webhook_body_sql as body_sql, type ClaimedDeliveryRow } from "./webhook-deliveries-sql.ts";

// The one home of the `webhook_queue` table's queries (migration 109, decisions §39): deliveries waiting
// for their first attempt, as narrow rows. The fan-out inserts them; the first attempt's record deletes
// each and writes its `webhook_deliveries` row once, with the outcome; a lapsed lease lets any sender
// claim them again. A delivery's body is not stored (migration 110): it is rebuilt from its event by
// `webhook_body_sql`, the one expression that makes every body, so every attempt sends the same bytes.

/** The id of the `index`-th delivery of a fan-out (from 1): the batch's UUIDv7 with its last 32 bits the index. */
const delivery_id_sql = (base: string, index: string) =>
  `overlay(${base}::text placing lpad(to_hex(${index}), 8, '0') from 29 for 8)::uuid`;

/**
 * The fan-out of one batch of the stream in one statement: the events after the cursor, each joined to
 * the endpoints that want it (service/notifications/webhook-fanout.ts's planDeliveries is the same rule in TypeScript),
 * numbered per endpoint, queued leased, the endpoints' last sequence moved. Each body is built from the event's
 * stored JSON and goes to Node once, to be sent; the payloads never come to Node. Returns one row per delivery
 * made, each with the batch's event count and last seq (one row with no delivery when none was made).
 * An event is fanned out once because the channel's cursor moves past it in the same transaction, under the
 * tenant's leader lock; the queue's unique key is a second guard while the delivery is queued. A guard against
 * `webhook_deliveries` as well was tried: with a new tenant's missing statistics the planner probed it through
 * the endpoint index, reading every delivery of the endpoint per event (600 ms per 1,000 events at 5,000).
 */
const fan_out_sql = `
  WITH ev AS MATERIALIZED (
    SELECT s.seq, e.id, e.type, e.party_ids, e.payload, e.created_at
      FROM event_seqs s JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
     WHERE s.tenant_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3),
  planned AS MATERIALIZED (
    SELECT ev.seq, ev.id AS event_id, ev.type, w.id AS endpoint_id,
           w.last_sequence + row_number() OVER (PARTITION BY w.id ORDER BY ev.seq) AS sequence,
           row_number() OVER (ORDER BY ev.seq, w.id) AS n
      FROM ev JOIN webhook_endpoints w
        ON w.tenant_id = $1 AND w.status = 'enabled' AND ev.seq > w.from_seq
       AND (ev.type = ANY(w.event_types) OR '*' = ANY(w.event_types))
       AND (w.party_id IS NULL OR w.party_id = ANY(ev.party_ids))
     WHERE NOT starts_with(ev.type, $4)),
  inserted AS (
    INSERT INTO webhook_queue (tenant_id, id, endpoint_id, event_id, event_seq, sequence, type, lease_until, created_at)
    SELECT $1, ${delivery_id_sql("$5", "p.n")}, p.endpoint_id, p.event_id, p.seq, p.sequence, p.type, $7, $6
      FROM planned p ORDER BY p.n
    ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING
    RETURNING id, endpoint_id, event_id, sequence),
  moved AS (
    UPDATE webhook_endpoints w SET last_sequence = m.last_sequence
      FROM (SELECT endpoint_id, max(sequence) AS last_sequence FROM planned GROUP BY endpoint_id) m
     WHERE w.tenant_id = $1 AND w.id = m.endpoint_id
    RETURNING 1)
  SELECT b.events, b.last_seq, i.id::text AS id, i.endpoint_id::text AS endpoint_id, e.id::text AS message_id,
         e.type, ${body_sql("i.sequence")} AS body
    FROM (SELECT count(*)::int4 AS events, max(seq) AS last_seq FROM ev) b
    LEFT JOIN inserted i ON true
    LEFT JOIN ev e ON e.id = i.event_id
   ORDER BY i.id`;

export interface FannedOutRow {
  /** The batch's event count and last seq, the same on every row. */
  events: number;
  last_seq: bigint | null;
  /** Null on the one row of a batch that made no delivery. */
  id: string | null;
  endpoint_id: string;
  message_id: string;
  type: string;
  body: string;
}

/**
 * Runs `fan_out_sql`: the deliveries of the events after `after_seq` (at most `events_max`, those whose type
 * starts with `internal_type_prefix` skipped), with ids from `base_id`, queued leased until `lease_until`.
 */
export function fanOutDeliveries(
  tx: Queryable,
  tenant_id: string,
  batch: {
    after_seq: bigint;
    events_max: number;
    internal_type_prefix: string;
    base_id: string;
    now: Date;
    lease_until: Date;
  },
): Promise<FannedOutRow[]> {
  assert(batch.events_max >= 1, "a fan-out takes at least one event");
  return tx.query<FannedOutRow & Record<string, unknown>>(fan_out_sql, [
    tenant_id,
    batch.after_seq,
    batch.events_max,
    batch.internal_type_prefix,
    batch.base_id,
    batch.now,
    batch.lease_until,
  ]);
}

/**
 * Leases until `lease_until` queued deliveries of enabled endpoints that nobody holds (at most `limit`, oldest
 * first, skipping rows another transaction holds), each with its body rebuilt and what sending needs of its
 * endpoint. They are first attempts: a queued delivery is due from the moment it is made.
 */
export function claimQueuedDeliveries(
  tx: Queryable,
  tenant_id: string,
  claim: { now: Date; limit: number; lease_until: Date },
): Promise<ClaimedDeliveryRow[]> {
  assert(claim.lease_until.getTime() > claim.now.getTime(), "a claim leases into the future");
  if (claim.limit === 0) return Promise.resolve([]);
  assert(claim.limit >= 1, "a claim takes a positive number of deliveries");
  // The ids go through ARRAY(...) so the lease is a primary-key lookup, as in claimDueDeliveries. The
  // lease is not in any index, so taking it is a heap-only update of a narrow row.
  return tx.query<ClaimedDeliveryRow & Record<string, unknown>>(
    `WITH leased AS (
       UPDATE webhook_queue q SET lease_until = $4
        WHERE q.tenant_id = $1 AND q.id = ANY(ARRAY(
          SELECT c.id FROM webhook_queue c
           WHERE c.tenant_id = $1 AND (c.lease_until IS NULL OR c.lease_until <= $2)
             AND c.endpoint_id = ANY(ARRAY(SELECT w.id FROM webhook_endpoints w WHERE w.tenant_id = $1 AND w.status = 'enabled'))
           ORDER BY c.id LIMIT $3 FOR UPDATE SKIP LOCKED))
       RETURNING q.id, q.endpoint_id, q.event_id, q.sequence)
     SELECT l.id::text AS id, l.endpoint_id::text AS endpoint_id, e.id::text AS message_id, e.type,
            ${body_sql("l.sequence")} AS body, 0 AS attempts, true AS queued,
            w.url, w.party_id, w.secret, w.previous_secret, w.previous_secret_expires_at
       FROM leased l JOIN events e ON e.tenant_id = $1 AND e.id = l.event_id
       JOIN webhook_endpoints w ON w.tenant_id = $1 AND w.id = l.endpoint_id
      ORDER BY l.id`,
    [tenant_id, claim.now, claim.limit, claim.lease_until],
  );
}

/** Gives queued deliveries back unsent: their lease goes. */
export async function releaseQueueLeases(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    "UPDATE webhook_queue SET lease_until = NULL WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
    [tenant_id, ids],
  );
}

/** The first attempt of a queued delivery and the state it leaves the delivery in. */
export interface FirstAttemptOutcome {
  id: string;
  status: "pending" | "succeeded" | "dead";
  /** When the retry is due (status pending); null otherwise. */
  next_attempt_at: Date | null;
  status_code: number | null;
  latency_ms: number;
  /** The delivery's last error (null when it succeeded). */
  error: string | null;
  /** The attempt's own error, as the transport saw it. */
  attempt_error: string | null;
}

// The deletes find their rows by primary key through ARRAY(...), as the claim does (decisions §37).
const record_first_sql = `WITH gone AS (
     DELETE FROM webhook_queue q WHERE q.tenant_id = $1 AND q.id = ANY(ARRAY(SELECT unnest($3::uuid[])))
     RETURNING q.id, q.endpoint_id, q.event_id, q.event_seq, q.sequence, q.created_at),
   written AS (
     INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, message_id, event_id, event_seq, sequence, type,
                                     party_ids, body, status, attempts, next_attempt_at, last_status_code, last_error,
                                     created_at, finished_at, first_attempt_started_at, first_attempt_latency_ms,
                                     first_attempt_status_code, first_attempt_error)
     SELECT $1, g.id, g.endpoint_id, e.id::text, e.id, g.event_seq, g.sequence, e.type, e.party_ids,
            NULL, u.status, 1, coalesce(u.next_at, $2::timestamptz), u.code, u.error, g.created_at,
            CASE WHEN u.status = 'pending' THEN NULL ELSE $2::timestamptz END, $8, u.latency_ms, u.code, u.attempt_error
       FROM gone g JOIN events e ON e.tenant_id = $1 AND e.id = g.event_id
       JOIN unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::int4[], $7::text[], $9::int4[], $10::text[])
         AS u(id, status, next_at, code, error, latency_ms, attempt_error) ON u.id = g.id
     RETURNING 1)
   SELECT (SELECT count(*) FROM gone)::int4 AS gone, (SELECT count(*) FROM written)::int4 AS n`;

/**
 * Records first attempts that started at `started_at` in one statement: each queued delivery leaves the queue
 * and its `webhook_deliveries` row is written once, narrow (no body: migration 110), with its outcome and the
 * attempt (migration 061's columns). A delivery no longer queued (another process's sender claimed it after
 * this one's lease lapsed, and recorded it first) is left as that record wrote it. Returns how many were written.
 */
export async function recordFirstAttempts(
  tx: Queryable,
  tenant_id: string,
  outcomes: readonly FirstAttemptOutcome[],
  started_at: Date,
  now: Date,
): Promise<number> {
  if (outcomes.length === 0) return 0;
  const [row] = await tx.query<{ gone: number; n: number }>(record_first_sql, [
    tenant_id,
    now,
    outcomes.map((outcome) => outcome.id),
    outcomes.map((outcome) => outcome.status),
    outcomes.map((outcome) => outcome.next_attempt_at),
    outcomes.map((outcome) => outcome.status_code),
    outcomes.map((outcome) => outcome.error),
    started_at,
    outcomes.map((outcome) => outcome.latency_ms),
    outcomes.map((outcome) => outcome.attempt_error),
  ]);
  assert(row !== undefined, "the record returns its counts");
  // Events are never deleted, so every delivery that left the queue was written: none is lost.
  assert(row.n === row.gone, `${row.gone} deliveries left the queue and ${row.n} were written`);
  return row.n;
}
