import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { internal_type_prefix } from "../../core/notifications/event-types.ts";
import { arrayLiteral, type Queryable } from "../../store/database.ts";
import {
  channelCursor,
  dispatch_batch_max,
  eventsAfter,
  latestSeq,
  leadTenant,
  moveCursor,
  type SequencedEvent,
} from "./stream-batch.ts";
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

/** Inserts deliveries, leased until `lease_until` when given; returns the ids inserted (not there before). */
export async function insertDeliveries(
  tx: Queryable,
  tenant_id: string,
  rows: readonly DeliveryRow[],
  now: Date,
  lease_until: Date | null = null,
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, message_id, event_id, event_seq, sequence, type,
                                     party_ids, body, status, next_attempt_at, lease_until, created_at)
     SELECT $1, d.id, d.endpoint_id, d.message_id, d.event_id, d.event_seq, d.sequence, d.type, d.parties::text[],
            d.body, 'pending', $11, $12, $11
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::int8[], $7::int8[], $8::text[], $9::text[], $10::text[])
         AS d(id, endpoint_id, message_id, event_id, event_seq, sequence, type, parties, body)
     ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING
     RETURNING id::text AS id`,
    [
      tenant_id,
      rows.map((row) => row.id),
      rows.map((row) => row.endpoint_id),
      rows.map((row) => row.message_id),
      rows.map((row) => row.event_id),
      rows.map((row) => row.event_seq),
      rows.map((row) => row.sequence),
      rows.map((row) => row.type),
      rows.map((row) => arrayLiteral(row.party_ids)),
      rows.map((row) => row.body),
      now,
      lease_until,
    ],
  );
  return new Set(inserted.map((row) => row.id));
}

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
  batch_max = dispatch_batch_max,
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
  const events = await eventsAfter(tx, tenant_id, cursor, batch_max);
  const last = events.at(-1);
  if (last === undefined) return { events: 0, leased: [] };
  const before = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint.last_sequence]));
  const rows = planDeliveries(events, endpoints);
  const inserted = await insertDeliveries(tx, tenant_id, rows, now, lease_until);
  const moved = endpoints.filter((endpoint) => endpoint.last_sequence !== before.get(endpoint.id));
  if (moved.length > 0)
    await tx.query(
      `UPDATE webhook_endpoints w SET last_sequence = m.last_sequence
         FROM unnest($2::uuid[], $3::int8[]) AS m(id, last_sequence) WHERE w.tenant_id = $1 AND w.id = m.id`,
      [tenant_id, moved.map((endpoint) => endpoint.id), moved.map((endpoint) => endpoint.last_sequence)],
    );
  await moveCursor(tx, tenant_id, "webhooks", cursor, last.seq, now);
  const by_id = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  const leased = rows
    .filter((row) => inserted.has(row.id))
    .map((row): ClaimedDelivery => {
      const endpoint = by_id.get(row.endpoint_id)!;
      return {
        id: row.id,
        endpoint_id: row.endpoint_id,
        message_id: row.message_id,
        type: row.type,
        body: row.body,
        attempts: 0,
        party_ids: [...row.party_ids],
        url: endpoint.url,
        party_id: endpoint.party_id,
        secret: endpoint.secret,
        previous_secret: endpoint.previous_secret,
        previous_secret_expires_at: endpoint.previous_secret_expires_at,
      };
    });
  return { events: events.length, leased };
}
