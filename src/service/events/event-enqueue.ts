import type { EventType } from "../../core/event-catalogue.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import type { Queryable } from "../../store/database.ts";
import { eventRowsStep } from "../../store/events-sql.ts";
import { type WriteStep, writeSteps } from "../../store/write-set.ts";

export interface EventInput {
  /** One of the one list (src/core/event-catalogue.ts), so writers and the notifications registry agree. */
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
  return eventRowsStep(
    tenant_id,
    events.map((event) => ({
      id: newId(),
      type: event.type,
      party_ids: event.party_ids,
      payload_json: toJsonText(event.payload),
    })),
    now,
  );
}
