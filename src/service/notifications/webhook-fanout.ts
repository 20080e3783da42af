import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { dispatch_events_per_batch_max } from "../../core/limits.ts";
import { internal_type_prefix } from "../../core/notifications/event-types.ts";
import { arrayLiteral, type Queryable } from "../../store/database.ts";
import {
  channelCursor,
  eventsAfter,
  latestSeq,
  leadTenant,
  moveCursor,
  type SequencedEvent,
} from "./stream-batch.ts";

// The "webhooks" channel: each event becomes one delivery per enabled endpoint
// that subscribes to its type and may see it (an endpoint of a party gets only
// events naming that party). The delivery's body is fixed here, with the
// endpoint's next sequence number, so every attempt sends the same bytes.

export interface EndpointTarget {
  id: string;
  event_types: string[];
  party_id: string | null;
  from_seq: bigint;
  last_sequence: bigint;
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
  return toJsonText({
    id: event.id,
    type: event.type,
    timestamp: event.created_at.toISOString(),
    sequence,
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

export async function insertDeliveries(
  tx: Queryable,
  tenant_id: string,
  rows: readonly DeliveryRow[],
  now: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await tx.query(
    `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, message_id, event_id, event_seq, sequence, type,
                                     party_ids, body, status, next_attempt_at, created_at)
     SELECT $1, d.id, d.endpoint_id, d.message_id, d.event_id, d.event_seq, d.sequence, d.type, d.parties::text[],
            d.body, 'pending', $11, $11
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::int8[], $7::int8[], $8::text[], $9::text[], $10::text[])
         AS d(id, endpoint_id, message_id, event_id, event_seq, sequence, type, parties, body)
     ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING
     RETURNING 1`,
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
    ],
  );
  return inserted.length;
}

async function enabledEndpoints(tx: Queryable, tenant_id: string): Promise<EndpointTarget[]> {
  const rows = await tx.query<{
    id: string;
    event_types: string[];
    party_id: string | null;
    from_seq: bigint;
    last_sequence: bigint;
  }>(
    `SELECT id::text AS id, event_types, party_id, from_seq, last_sequence FROM webhook_endpoints
      WHERE tenant_id = $1 AND status = 'enabled' ORDER BY id FOR UPDATE`,
    [tenant_id],
  );
  return rows.map((row) => ({
    ...row,
    from_seq: BigInt(row.from_seq),
    last_sequence: BigInt(row.last_sequence),
  }));
}

/** One round of the webhooks channel in the caller's transaction; returns how many events it took. */
export async function fanOutWebhooks(
  tx: Queryable,
  tenant_id: string,
  now: Date,
  batch_max = dispatch_events_per_batch_max,
): Promise<number> {
  if (!(await leadTenant(tx, tenant_id))) return 0;
  const cursor = await channelCursor(tx, tenant_id, "webhooks");
  const endpoints = await enabledEndpoints(tx, tenant_id);
  if (endpoints.length === 0) {
    // Nobody listens: skip ahead without reading the events.
    const latest = await latestSeq(tx, tenant_id);
    if (latest > cursor) await moveCursor(tx, tenant_id, "webhooks", cursor, latest, now);
    return 0;
  }
  const events = await eventsAfter(tx, tenant_id, cursor, batch_max);
  const last = events.at(-1);
  if (last === undefined) return 0;
  const before = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint.last_sequence]));
  const rows = planDeliveries(events, endpoints);
  await insertDeliveries(tx, tenant_id, rows, now);
  const moved = endpoints.filter((endpoint) => endpoint.last_sequence !== before.get(endpoint.id));
  if (moved.length > 0)
    await tx.query(
      `UPDATE webhook_endpoints w SET last_sequence = m.last_sequence
         FROM unnest($2::uuid[], $3::int8[]) AS m(id, last_sequence) WHERE w.tenant_id = $1 AND w.id = m.id`,
      [tenant_id, moved.map((endpoint) => endpoint.id), moved.map((endpoint) => endpoint.last_sequence)],
    );
  await moveCursor(tx, tenant_id, "webhooks", cursor, last.seq, now);
  return events.length;
}
