import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { dispatch_events_per_batch_max } from "../../core/limits.ts";
import { internal_type_prefix } from "../../core/notifications/event-types.ts";
import type { Queryable } from "../../store/database.ts";
import { channelCursor, latestSeq, leadTenant, moveCursor, type SequencedEvent } from "./stream-batch.ts";
import type { ClaimedDelivery } from "./webhook-sender.ts";

// The "webhooks" channel: each event becomes one delivery per enabled endpoint
// that subscribes to its type and may see it (an endpoint of a party gets only
// events naming that party). The delivery's body is fixed here, with the
// endpoint's next sequence number, so every attempt sends the same bytes.
// The deliveries are made leased to this process and handed to its sender
// as the transaction commits (decisions §30): their first attempt needs no
// claim. Should the process die first, the lease lapses and any process's
// sender claims them from the table.

export interface EndpointTarget {
  id: string;
  event_types: string[];
  party_id: string | null;
  from_seq: bigint;
  last_sequence: bigint;
}

/** What the sender needs of an endpoint to send to it. */
export interface EndpointAddress {
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

export interface FanOut {
  /** Events taken from the stream (the cursor moved past them). */
  events: number;
  /** The deliveries made, leased to this process until `lease_until`, for its sender. */
  leased: ClaimedDelivery[];
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  message_id: string;
  event_id: string | null;
  event_seq: bigint | null;
  sequence: bigint;
  type: string;
  party_ids: readonly string[];
  body: string;
}

export function endpointWants(
  endpoint: EndpointTarget,
  event: { seq: bigint; type: string; party_ids: readonly string[] },
): boolean {
  if (event.seq <= endpoint.from_seq) return false;
  if (!endpoint.event_types.includes(event.type) && !endpoint.event_types.includes("*")) return false;
  return endpoint.party_id === null || event.party_ids.includes(endpoint.party_id);
}

/** The payload a receiver gets: Standard Webhooks' `{type, timestamp, data}` plus our id and sequence. */
export function webhookBody(
  event: { id: string; type: string; created_at: Date; payload: unknown },
  sequence: bigint,
): string {
  // A number, not a bigint: toJsonText would walk the whole payload a second time to convert it.
  assert(sequence <= BigInt(Number.MAX_SAFE_INTEGER), "an endpoint's sequence fits a JSON number");
  return toJsonText({
    id: event.id,
    type: event.type,
    timestamp: event.created_at.toISOString(),
    sequence: Number(sequence),
    data: event.payload,
  });
}

/** Pure: the deliveries of a batch; advances each endpoint's last_sequence in place. */
export function planDeliveries(
  events: readonly SequencedEvent[],
  endpoints: EndpointTarget[],
): DeliveryRow[] {
  const rows: DeliveryRow[] = [];
  for (const event of events) {
    if (event.type.startsWith(internal_type_prefix)) continue;
    for (const endpoint of endpoints) {
      if (!endpointWants(endpoint, event)) continue;
      endpoint.last_sequence += 1n;
      rows.push({
        id: newId(),
        endpoint_id: endpoint.id,
        message_id: event.id,
        event_id: event.id,
        event_seq: event.seq,
        sequence: endpoint.last_sequence,
        type: event.type,
        party_ids: event.party_ids,
        body: webhookBody(event, endpoint.last_sequence),
      });
    }
  }
  return rows;
}

/** The id of the `index`-th delivery of a fan-out (from 1): the batch's UUIDv7 with its last 32 bits the index. */
const delivery_id_sql = (base: string, index: string) =>
  `overlay(${base}::text placing lpad(to_hex(${index}), 8, '0') from 29 for 8)::uuid`;

/**
 * The fan-out of one batch of the stream in one statement: the events after the cursor, each joined to
 * the endpoints that want it (planDeliveries is the same rule in TypeScript), numbered per endpoint,
 * each body built from the event's stored JSON, inserted leased, the endpoints' last sequence moved.
 * The payloads never come to Node and the bodies go there once, to be sent. Returns one row per delivery
 * made, each with the batch's event count and last seq (one row with no delivery when none was made).
 */
const fan_out_sql = `
  WITH ev AS MATERIALIZED (
    SELECT s.seq, e.id, e.type, e.party_ids, e.payload, e.created_at
      FROM event_seqs s JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
     WHERE s.tenant_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3),
  planned AS MATERIALIZED (
    SELECT ev.seq, ev.id AS event_id, ev.type, ev.party_ids, ev.payload, ev.created_at, w.id AS endpoint_id,
           w.last_sequence + row_number() OVER (PARTITION BY w.id ORDER BY ev.seq) AS sequence,
           row_number() OVER (ORDER BY ev.seq, w.id) AS n
      FROM ev JOIN webhook_endpoints w
        ON w.tenant_id = $1 AND w.status = 'enabled' AND ev.seq > w.from_seq
       AND (ev.type = ANY(w.event_types) OR '*' = ANY(w.event_types))
       AND (w.party_id IS NULL OR w.party_id = ANY(ev.party_ids))
     WHERE NOT starts_with(ev.type, $4)),
  inserted AS (
    INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, message_id, event_id, event_seq, sequence, type,
                                    party_ids, body, status, next_attempt_at, lease_until, created_at)
    SELECT $1, ${delivery_id_sql("$5", "p.n")}, p.endpoint_id, p.event_id::text, p.event_id, p.seq, p.sequence, p.type,
           p.party_ids,
           '{"id":' || to_json(p.event_id::text)::text || ',"type":' || to_json(p.type)::text || ',"timestamp":"'
             || to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '","sequence":'
             || p.sequence::text || ',"data":' || p.payload::text || '}',
           'pending', $6, $7, $6
      FROM planned p ORDER BY p.n
    ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING
    RETURNING id, endpoint_id, message_id, type, body),
  moved AS (
    UPDATE webhook_endpoints w SET last_sequence = m.last_sequence
      FROM (SELECT endpoint_id, max(sequence) AS last_sequence FROM planned GROUP BY endpoint_id) m
     WHERE w.tenant_id = $1 AND w.id = m.endpoint_id
    RETURNING 1)
  SELECT b.events, b.last_seq, i.id::text AS id, i.endpoint_id::text AS endpoint_id, i.message_id, i.type, i.body
    FROM (SELECT count(*)::int4 AS events, max(seq) AS last_seq FROM ev) b
    LEFT JOIN inserted i ON true
   ORDER BY i.id`;

async function enabledEndpoints(
  tx: Queryable,
  tenant_id: string,
): Promise<(EndpointTarget & EndpointAddress)[]> {
  const rows = await tx.query<{
    id: string;
    event_types: string[];
    party_id: string | null;
    from_seq: bigint;
    last_sequence: bigint;
    url: string;
    secret: string;
    previous_secret: string | null;
    previous_secret_expires_at: Date | null;
  }>(
    `SELECT id::text AS id, event_types, party_id, from_seq, last_sequence, url, secret, previous_secret,
            previous_secret_expires_at
       FROM webhook_endpoints WHERE tenant_id = $1 AND status = 'enabled' ORDER BY id FOR UPDATE`,
    [tenant_id],
  );
  return rows.map((row) => ({
    ...row,
    from_seq: BigInt(row.from_seq),
    last_sequence: BigInt(row.last_sequence),
  }));
}

/**
 * One round of the webhooks channel in the caller's transaction: the events it took, and the
 * deliveries it made, leased until `lease_until` for the caller to send once the transaction commits.
 */
export async function fanOutWebhooks(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  lease_until: Date,
  batch_max = dispatch_events_per_batch_max,
): Promise<FanOut> {
  assert(lease_until.getTime() > now.getTime(), "a fanned-out delivery is leased into the future");
  if (!(await leadTenant(tx, tenant_id))) return { events: 0, leased: [] };
  const cursor = await channelCursor(tx, tenant_id, "webhooks");
  const endpoints = await enabledEndpoints(tx, tenant_id);
  if (endpoints.length === 0) {
    // Nobody listens: skip ahead without reading the events.
    const latest = await latestSeq(tx, tenant_id);
    if (latest > cursor) await moveCursor(tx, tenant_id, "webhooks", cursor, latest, now);
    return { events: 0, leased: [] };
  }
  const rows = await tx.query<{
    events: number;
    last_seq: bigint | null;
    id: string | null;
    endpoint_id: string;
    message_id: string;
    type: string;
    body: string;
  }>(fan_out_sql, [tenant_id, cursor, batch_max, internal_type_prefix, newId(), now, lease_until]);
  const summary = rows[0];
  assert(summary !== undefined, "the fan-out statement returns at least its summary row");
  if (summary.events === 0) return { events: 0, leased: [] };
  assert(summary.last_seq !== null, "a batch with events has a last seq");
  await moveCursor(tx, tenant_id, "webhooks", cursor, BigInt(summary.last_seq), now);
  const by_id = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  const leased: ClaimedDelivery[] = [];
  for (const row of rows) {
    if (row.id === null) continue;
    const endpoint = by_id.get(row.endpoint_id);
    assert(endpoint !== undefined, `delivery ${row.id} is for an endpoint this transaction locked`);
    leased.push({
      id: row.id,
      endpoint_id: row.endpoint_id,
      message_id: row.message_id,
      type: row.type,
      body: row.body,
      attempts: 0,
      url: endpoint.url,
      party_id: endpoint.party_id,
      secret: endpoint.secret,
      previous_secret: endpoint.previous_secret,
      previous_secret_expires_at: endpoint.previous_secret_expires_at,
    });
  }
  return { events: summary.events, leased };
}
