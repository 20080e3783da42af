import { arrayLiteral, type Queryable } from "./database.ts";
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

/** Each tenant's highest event sequence number (0 before its first): what the live stream polls. */
export async function latestEventSeqs(
  db: Queryable,
  tenant_ids: readonly string[],
): Promise<{ tenant_id: string; seq: bigint }[]> {
  // Citus (issue 20) runs no query that reads several tenants' shards through
  // a correlated subquery: one routed query per tenant instead.
  if (db.sharded === true) {
    return Promise.all(
      tenant_ids.map(async (tenant_id) => ({ tenant_id, seq: await latestEventSeq(db, tenant_id) })),
    );
  }
  return db.query<{ tenant_id: string; seq: bigint }>(
    `SELECT t.id AS tenant_id, coalesce((SELECT max(seq) FROM event_seqs s
              WHERE s.tenant_id = t.id), 0)::int8 AS seq
       FROM unnest($1::text[]) AS t(id)`,
    [tenant_ids],
  );
}

/** The tenant's highest event sequence number, 0 before its first. */
export async function latestEventSeq(db: Queryable, tenant_id: string): Promise<bigint> {
  const [row] = await db.query<{ seq: bigint }>(
    "SELECT coalesce(max(seq), 0)::int8 AS seq FROM event_seqs WHERE tenant_id = $1",
    [tenant_id],
  );
  return BigInt(row?.seq ?? 0n);
}

/** Events stored but not yet numbered, over all tenants (the event sequencer's lag, for /metrics). */
export async function unnumberedEventCount(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: bigint | number }>(
    "SELECT (SELECT count(*) FROM events) - (SELECT count(*) FROM event_seqs) AS n",
  );
  return Number(row?.n ?? 0);
}

export interface StreamEventRow {
  seq: bigint;
  id: string;
  type: string;
  payload: unknown;
  created_at: Date;
}

/**
 * Sequenced events after `after_seq` that `party_id` (null: every party) may
 * see, in seq order; inbox pushes (`inbox.*`) only to their own user. Run it on
 * a scoped handle: row-level security then holds whatever the filter says.
 */
export function selectSequencedEventsFor(
  tx: Queryable,
  tenant_id: string,
  filter: { after_seq: bigint; party_id: string | null; user_id: string | null; limit: number },
): Promise<StreamEventRow[]> {
  return tx.query<StreamEventRow & Record<string, unknown>>(
    `SELECT s.seq, e.id::text AS id, e.type, e.payload, e.created_at
       FROM event_seqs s JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
      WHERE s.tenant_id = $1 AND s.seq > $2 AND ($3::text IS NULL OR e.party_ids @> ARRAY[$3::text])
        AND (e.type NOT LIKE 'inbox.%' OR e.payload->>'user_id' = $5::text)
      ORDER BY s.seq LIMIT $4`,
    [tenant_id, filter.after_seq, filter.party_id, filter.limit, filter.user_id],
  );
}
