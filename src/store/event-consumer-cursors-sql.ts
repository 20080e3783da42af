import { assert } from "../core/assert.ts";
import { probeEachTenant } from "./citus-sql.ts";
import type { Queryable } from "./database.ts";

// The one home of event_consumer_cursors' SQL (migration 090): where each
// outside consumer of the event stream stands, per tenant.

export const consumer_name_pattern = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;

/** The last seq the consumer has handed on for the tenant, 0 when none. Locks the row when it exists. */
export async function readConsumerCursor(
  tx: Queryable,
  tenant_id: string,
  consumer: string,
): Promise<bigint> {
  assert(consumer_name_pattern.test(consumer), `bad consumer name ${JSON.stringify(consumer)}`);
  const rows = await tx.query<{ seq: bigint }>(
    "SELECT seq FROM event_consumer_cursors WHERE tenant_id = $1 AND consumer = $2 FOR UPDATE",
    [tenant_id, consumer],
  );
  return rows[0] === undefined ? 0n : BigInt(rows[0].seq);
}

/** Moves the cursor forward; never backward (an assertion names the attempt). */
export async function advanceConsumerCursor(
  tx: Queryable,
  tenant_id: string,
  consumer: string,
  seq: bigint,
  now: Date,
): Promise<void> {
  assert(seq >= 1n, "a consumer cursor advances to a positive seq");
  const rows = await tx.query<{ seq: bigint }>(
    `INSERT INTO event_consumer_cursors (tenant_id, consumer, seq, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
       WHERE event_consumer_cursors.seq <= excluded.seq
     RETURNING seq`,
    [tenant_id, consumer, seq, now],
  );
  assert(rows.length === 1, `consumer ${consumer} of ${tenant_id} would move back to seq ${seq}`);
}

/** Tenants whose stream has events beyond the consumer's cursor, at most `tenants_max`, with their backlog. */
export async function tenantsBehind(
  db: Queryable,
  consumer: string,
  tenants_max: number,
): Promise<{ tenant_id: string; cursor_seq: bigint; latest_seq: bigint }[]> {
  assert(tenants_max >= 1, "tenants_max must be positive");
  if (db.sharded === true) return tenantsBehindOnShards(db, consumer, tenants_max);
  const rows = await db.query<{ tenant_id: string; cursor_seq: bigint; latest_seq: bigint }>(
    `SELECT t.id AS tenant_id, coalesce(c.seq, 0)::int8 AS cursor_seq, s.seq AS latest_seq
       FROM tenants t
       CROSS JOIN LATERAL (SELECT seq FROM event_seqs WHERE tenant_id = t.id ORDER BY seq DESC LIMIT 1) AS s
       LEFT JOIN event_consumer_cursors c ON c.tenant_id = t.id AND c.consumer = $1
      WHERE s.seq > coalesce(c.seq, 0)
      ORDER BY t.id LIMIT $2`,
    [consumer, tenants_max],
  );
  return rows.map((row) => ({
    tenant_id: row.tenant_id,
    cursor_seq: BigInt(row.cursor_seq),
    latest_seq: BigInt(row.latest_seq),
  }));
}

/**
 * Citus (issue 20): the join above reads every tenant's shard through a
 * LATERAL subquery, which Citus refuses; each tenant is asked on its own shard.
 */
async function tenantsBehindOnShards(
  db: Queryable,
  consumer: string,
  tenants_max: number,
): Promise<{ tenant_id: string; cursor_seq: bigint; latest_seq: bigint }[]> {
  return probeEachTenant(
    db,
    async (tenant_id) => {
      const [row] = await db.query<{ cursor_seq: bigint; latest_seq: bigint | null }>(
        `SELECT coalesce((SELECT seq FROM event_consumer_cursors WHERE tenant_id = $1 AND consumer = $2), 0)::int8 AS cursor_seq,
                (SELECT max(seq) FROM event_seqs WHERE tenant_id = $1)::int8 AS latest_seq`,
        [tenant_id, consumer],
      );
      if (row === undefined || row.latest_seq === null) return undefined;
      const cursor_seq = BigInt(row.cursor_seq);
      const latest_seq = BigInt(row.latest_seq);
      return latest_seq > cursor_seq ? { tenant_id, cursor_seq, latest_seq } : undefined;
    },
    tenants_max,
  );
}

export interface SequencedEventRow {
  seq: bigint;
  id: string;
  type: string;
  party_ids: string[];
  payload: unknown;
  created_at: Date;
}

/** Every sequenced event of the tenant after `after_seq`, in seq order, whatever party it concerns. */
export async function readSequencedEvents(
  tx: Queryable,
  tenant_id: string,
  after_seq: bigint,
  limit: number,
): Promise<SequencedEventRow[]> {
  assert(limit >= 1, "limit must be positive");
  const rows = await tx.query<SequencedEventRow & Record<string, unknown>>(
    `SELECT s.seq, e.id::text AS id, e.type, e.party_ids, e.payload, e.created_at
       FROM (SELECT tenant_id, seq, event_id FROM event_seqs
              WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) AS s
       CROSS JOIN LATERAL (SELECT id, type, party_ids, payload, created_at FROM events
                            WHERE tenant_id = $1 AND id = s.event_id LIMIT 1) AS e
      ORDER BY s.seq`,
    [tenant_id, after_seq, limit],
  );
  return rows.map((row) => ({ ...row, seq: BigInt(row.seq) }));
}
