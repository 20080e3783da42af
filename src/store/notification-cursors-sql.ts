import { assert } from "../core/assert.ts";
import { probeEachTenant } from "./citus-sql.ts";
import type { Queryable } from "./database.ts";

// The one home of the `notification_cursors` table's queries (decisions §29):
// a durable cursor per (tenant, channel) over the sequenced event stream, and
// the read of the stream after a cursor that each channel's round makes.

export type SequencedEventRow = {
  seq: bigint;
  id: string;
  type: string;
  party_ids: string[];
  payload: unknown;
  created_at: Date;
};

/** The channel's cursor, locked for this transaction; 0 when the channel has none yet. */
export async function selectCursorForUpdate(
  tx: Queryable,
  tenant_id: string,
  channel: string,
): Promise<bigint> {
  const [row] = await tx.query<{ last_seq: bigint }>(
    "SELECT last_seq FROM notification_cursors WHERE tenant_id = $1 AND channel = $2 FOR UPDATE",
    [tenant_id, channel],
  );
  return row === undefined ? 0n : BigInt(row.last_seq);
}

export async function upsertCursor(
  tx: Queryable,
  tenant_id: string,
  channel: string,
  last_seq: bigint,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO notification_cursors (tenant_id, channel, last_seq, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, channel) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
    [tenant_id, channel, last_seq, now],
  );
}

/** Every channel's cursor of a tenant. */
export function selectCursors(
  db: Queryable,
  tenant_id: string,
): Promise<{ channel: string; last_seq: bigint; updated_at: Date }[]> {
  return db.query<{ channel: string; last_seq: bigint; updated_at: Date }>(
    "SELECT channel, last_seq, updated_at FROM notification_cursors WHERE tenant_id = $1",
    [tenant_id],
  );
}

/** The sequenced events after `after_seq`, in stream order, at most `limit`. */
export async function selectEventsAfter(
  tx: Queryable,
  tenant_id: string,
  after_seq: bigint,
  limit: number,
): Promise<SequencedEventRow[]> {
  assert(limit >= 1, "a stream batch reads at least one event");
  const rows = await tx.query<SequencedEventRow>(
    `SELECT s.seq, e.id::text AS id, e.type, e.party_ids, e.payload, e.created_at
       FROM event_seqs s JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
      WHERE s.tenant_id = $1 AND s.seq > $2 ORDER BY s.seq LIMIT $3`,
    [tenant_id, after_seq, limit],
  );
  return rows.map((row) => ({ ...row, seq: BigInt(row.seq) }));
}

/** Per channel, the events numbered on the stream that the channel has not taken, over all tenants: an index probe per tenant. */
export async function selectChannelBacklogs(
  db: Queryable,
  channels: readonly string[],
): Promise<{ channel: string; backlog: number }[]> {
  // Citus (issue 20): no correlated subquery over the tenants reference table; each tenant's shard is asked.
  if (db.sharded === true) return channelBacklogsOnShards(db, channels);
  const rows = await db.query<{ channel: string; backlog: bigint | string | null }>(
    `SELECT c.channel, sum(greatest(t.latest - coalesce(n.last_seq, 0), 0))::int8 AS backlog
       FROM (SELECT id, (SELECT coalesce(max(seq), 0) FROM event_seqs s WHERE s.tenant_id = tenants.id) AS latest
               FROM tenants) t
      CROSS JOIN unnest($1::text[]) AS c(channel)
       LEFT JOIN notification_cursors n ON n.tenant_id = t.id AND n.channel = c.channel
      GROUP BY c.channel`,
    [channels],
  );
  return rows.map((row) => ({ channel: row.channel, backlog: Number(row.backlog ?? 0) }));
}

/** The same, one routed query per tenant (Citus): each tenant's stream head and cursors live on its shard. */
async function channelBacklogsOnShards(
  db: Queryable,
  channels: readonly string[],
): Promise<{ channel: string; backlog: number }[]> {
  const per_tenant = await probeEachTenant(db, (tenant_id) =>
    db.query<{ channel: string; backlog: bigint | string }>(
      `SELECT c.channel, greatest((SELECT coalesce(max(seq), 0) FROM event_seqs WHERE tenant_id = $1)
                                  - coalesce(n.last_seq, 0), 0)::int8 AS backlog
         FROM unnest($2::text[]) AS c(channel)
         LEFT JOIN notification_cursors n ON n.tenant_id = $1 AND n.channel = c.channel`,
      [tenant_id, channels],
    ),
  );
  const totals = new Map<string, number>(channels.map((channel) => [channel, 0]));
  for (const rows of per_tenant)
    for (const row of rows) totals.set(row.channel, (totals.get(row.channel) ?? 0) + Number(row.backlog));
  return [...totals].map(([channel, backlog]) => ({ channel, backlog }));
}
