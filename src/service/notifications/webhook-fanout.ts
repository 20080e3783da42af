import { assert } from "../../core/assert.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { dispatch_events_per_batch_max } from "../../core/limits.ts";
import { internal_type_prefix } from "../../core/notifications/event-types.ts";
import type { Queryable } from "../../store/database.ts";
import { selectEnabledEndpointsForUpdate } from "../../store/webhook-endpoints-sql.ts";
import { fanOutDeliveries } from "../../store/webhook-queue-sql.ts";
import { channelCursor, latestSeq, leadTenant, moveCursor, type SequencedEvent } from "./stream-batch.ts";
import type { ClaimedDelivery } from "./webhook-hand-off.ts";

// The "webhooks" channel: each event becomes one delivery per enabled endpoint
// that subscribes to its type and may see it (an endpoint of a party gets only
// events naming that party). The delivery's body is fixed here, with the
// endpoint's next sequence number, so every attempt sends the same bytes.
// The deliveries are queued leased to this process (webhook_queue, decisions
// §39) and handed to its sender as the transaction commits (decisions §30):
// their first attempt needs no claim, and its record writes the delivery row.
// Should the process die first, the lease lapses and any process's sender
// claims them from the queue.

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

async function enabledEndpoints(
  tx: Queryable,
  tenant_id: string,
): Promise<(EndpointTarget & EndpointAddress)[]> {
  const rows = await selectEnabledEndpointsForUpdate(tx, tenant_id);
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
  const rows = await fanOutDeliveries(tx, tenant_id, {
    after_seq: cursor,
    events_max: batch_max,
    internal_type_prefix,
    base_id: newId(),
    now,
    lease_until,
  });
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
      queued: true,
    });
  }
  return { events: summary.events, leased };
}
