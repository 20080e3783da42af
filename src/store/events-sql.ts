import { arrayLiteral } from "./database.ts";
import type { WriteStep } from "./write-set.ts";

// The one home of the `events` table's inserts (the live stream's queue; the
// sequencer's and the feed's reads live with them in service/events).

export interface EventRow {
  id: string;
  type: string;
  party_ids: readonly string[];
  /** The payload as JSON text. */
  payload_json: string;
}

/** Inserts events as one step of a combined write (store/write-set.ts). */
export function eventRowsStep(tenant_id: string, rows: readonly EventRow[], now: Date): WriteStep {
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
      rows.map((row) => row.id),
      rows.map((row) => row.type),
      rows.map((row) => arrayLiteral(row.party_ids)),
      rows.map((row) => row.payload_json),
      now,
    ],
  };
}
