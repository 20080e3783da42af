import type { EventType } from "../../core/event-types.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { arrayLiteral, type Queryable } from "../../store/database.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";

export interface EventInput {
  /** One of the one list (src/core/event-types.ts), so writers and the notifications registry agree. */
  type: EventType;
  /** Parties that may see it; empty: platform roles only. */
  party_ids: readonly string[];
  payload: unknown;
}

/** Queues live-stream events in the caller's business transaction; they are visible once it commits. */
export async function enqueueEvents(
  tx: Queryable,
  tenant_id: string,
  events: readonly EventInput[],
  now: Date,
): Promise<void> {
  await writeSteps(tx, [eventsWrite(tenant_id, events, now)]);
}

/** The same, as one step of a combined write (src/store/write-set.ts). */
export function eventsWrite(tenant_id: string, events: readonly EventInput[], now: Date): WriteStep | null {
  if (events.length === 0) return null;
  return {
    ctes: [
      [
        "event_rows",
        `INSERT INTO events (tenant_id, id, type, party_ids, payload, created_at)
         SELECT $1, e.id, e.type, e.parties::text[], e.payload::jsonb, $6::timestamptz
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS e(id, type, parties, payload)
         RETURNING 1`,
      ],
    ],
    params: [
      tenant_id,
      events.map(() => newId()),
      events.map((event) => event.type),
      events.map((event) => arrayLiteral(event.party_ids)),
      events.map((event) => toJsonText(event.payload)),
      now,
    ],
  };
}
