import { assert } from "../core/assert.ts";
import { probeEachTenant } from "./citus-sql.ts";
import type { Queryable } from "./database.ts";
import { cursor_origin } from "./log-leaves-sql.ts";

// The event sequencer's SQL (service/events/event-sequencer.ts holds its
// lock and its loop): numbering a tenant's ready events in commit order, the
// cursor derived from the last seq, the commit horizon, and the tenants with
// events to number. The rules are the sequencer's header's.

/**
 * Numbers up to `batch_max` of the tenant's events that are ready (after the
 * cursor, below the commit horizon) on one node. The caller holds the tenant's
 * sequencer lock.
 */
export async function numberReadyEvents(
  tx: Queryable,
  tenant_id: string,
  batch_max: number,
): Promise<number> {
  const horizon = await commitHorizon(tx);
  const cursor = await eventCursor(tx, tenant_id);
  const [inserted] = await tx.query<{ count: bigint }>(
    `WITH ready AS (
       SELECT e.id, e.xid FROM events e
        WHERE e.tenant_id = $1 AND (e.xid, e.id) > ($2::xid8, $3::uuid) AND e.xid < $4::text::xid8
        ORDER BY e.xid, e.id LIMIT $5),
     inserted AS (
       INSERT INTO event_seqs (tenant_id, seq, event_id)
       SELECT $1, $6::int8 + row_number() OVER (ORDER BY ready.xid, ready.id), ready.id FROM ready
       RETURNING 1)
     SELECT count(*) AS count FROM inserted`,
    [tenant_id, cursor.xid, cursor.id, horizon, batch_max, cursor.seq],
  );
  const count = Number(inserted?.count ?? -1);
  assert(
    count >= 0 && count <= batch_max,
    `numbered ${inserted?.count} events, at most ${batch_max} expected`,
  );
  return count;
}

/**
 * Citus (issue 20): the events' xids are stamped on the tenant's shard
 * (store/citus-sql.ts), so the horizon is that worker's, taken inside the
 * statement that reads them, which Citus routes to the shard whole:
 * `pg_snapshot_xmin` of the statement's own snapshot, below which every
 * transaction has ended and is visible to it (the log sequencer's rule). It
 * is not narrowed to this database as on one node (§8): a worker's long
 * transaction in another database holds the stream back until it ends.
 */
export async function numberShardEvents(
  tx: Queryable,
  tenant_id: string,
  batch_max: number,
): Promise<number> {
  const cursor = await eventCursor(tx, tenant_id);
  const ready = await tx.query<{ id: string }>(
    `SELECT e.id::text AS id FROM events e
      WHERE e.tenant_id = $1 AND (e.xid, e.id) > ($2::xid8, $3::uuid)
        AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.xid, e.id LIMIT $4`,
    [tenant_id, cursor.xid, cursor.id, batch_max],
  );
  if (ready.length === 0) return 0;
  const [inserted] = await tx.query<{ count: bigint }>(
    `WITH inserted AS (
       INSERT INTO event_seqs (tenant_id, seq, event_id)
       SELECT $1, $2::int8 + r.n, r.id FROM unnest($3::uuid[]) WITH ORDINALITY AS r(id, n)
       RETURNING 1)
     SELECT count(*) AS count FROM inserted`,
    [tenant_id, cursor.seq, ready.map((row) => row.id)],
  );
  assert(
    Number(inserted?.count) === ready.length,
    `numbered ${inserted?.count} of ${ready.length} ready events`,
  );
  return ready.length;
}

/**
 * The (xid, id) of seq row `alias`'s event as a lateral subquery: one
 * primary-key probe, whatever the statistics say (see the log's recordOfLeaf).
 * `tenant` is the tenant as the query names it; a constant lets Citus route
 * the whole query to the tenant's shard.
 */
function eventOfSeq(alias: string, tenant = `${alias}.tenant_id`): string {
  return `SELECT xid, id FROM events WHERE tenant_id = ${tenant} AND id = ${alias}.event_id LIMIT 1`;
}

interface EventCursor {
  /** The last seq given, 0 when none. */
  seq: bigint;
  /** xid8 as decimal text, and the event id, of that event; before every event when none. */
  xid: string;
  id: string;
}

async function eventCursor(tx: Queryable, tenant_id: string): Promise<EventCursor> {
  const [row] = await tx.query<{ seq: bigint; xid: string | null; id: string | null; issued: boolean }>(
    `SELECT s.seq, e.xid::text AS xid, e.id::text AS id,
            e.xid < pg_snapshot_xmax(pg_current_snapshot()) AS issued
       FROM (SELECT tenant_id, seq, event_id FROM event_seqs WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1) AS s
       LEFT JOIN LATERAL (${eventOfSeq("s", "$1")}) AS e ON true`,
    [tenant_id],
  );
  if (row === undefined) return { seq: 0n, ...cursor_origin };
  assert(row.xid !== null && row.id !== null, `event seq ${row.seq} of ${tenant_id} has no event`);
  // As for the log: xids above the server's mean a dump restored into a younger cluster.
  assert(
    row.issued,
    `event seq ${row.seq} of ${tenant_id} has xid ${row.xid}, not issued by this server yet`,
  );
  return { seq: BigInt(row.seq), xid: row.xid, id: row.id };
}

/**
 * Every xid below the returned one (as text) has committed or aborted, as far
 * as this database's rows are concerned. It is computed in one statement: a
 * transaction in the snapshot's running set that is gone from
 * pg_stat_activity by the time the view is read has ended, so the next
 * statement's snapshot sees its rows. Needs the writers' backend_xid to be
 * visible: ClearSplit's processes connect as one role (or one with pg_read_all_stats).
 */
export async function commitHorizon(tx: Queryable): Promise<string> {
  const rows = await tx.query<{ horizon: string }>(
    `WITH snap AS (SELECT pg_current_snapshot() AS s),
          mine AS (SELECT backend_xid::text AS x FROM pg_stat_activity
                    WHERE datname = current_database() AND backend_xid IS NOT NULL
                   UNION ALL
                   SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database())
     SELECT coalesce(
              (SELECT min(x) FROM snap, pg_snapshot_xip(snap.s) AS x
                WHERE (x::text::numeric % 4294967296)::text IN (SELECT x FROM mine)),
              (SELECT pg_snapshot_xmax(s) FROM snap))::text AS horizon`,
  );
  const horizon = rows[0]?.horizon;
  assert(horizon !== undefined && /^\d+$/.test(horizon), "commit horizon is not an xid");
  return horizon;
}

/**
 * Tenants with events ready to number: after their cursor and below the
 * horizon, so that tenants held back by an open transaction do not take the
 * round's places. A few index probes per tenant: events carry no "unnumbered"
 * mark to scan for any more. Events are written in business transactions of
 * existing tenants, so the tenants table lists every stream.
 */
export async function selectTenantsWithPendingEvents(db: Queryable, tenants_max: number): Promise<string[]> {
  if (db.sharded === true) return shardTenantsWithPendingEvents(db, tenants_max);
  const horizon = await commitHorizon(db);
  const rows = await db.query<{ tenant_id: string }>(
    `SELECT t.id AS tenant_id FROM tenants t
       LEFT JOIN LATERAL (
         SELECT tenant_id, event_id FROM event_seqs WHERE tenant_id = t.id ORDER BY seq DESC LIMIT 1) AS s ON true
       LEFT JOIN LATERAL (${eventOfSeq("s")}) AS last ON true
      CROSS JOIN LATERAL (
         SELECT 1 FROM events e
          WHERE e.tenant_id = t.id
            AND (e.xid, e.id) > (coalesce(last.xid, $2::xid8), coalesce(last.id, $3::uuid))
            AND e.xid < $4::text::xid8
          ORDER BY e.xid, e.id LIMIT 1) AS pending
      ORDER BY t.id LIMIT $1`,
    [tenants_max, cursor_origin.xid, cursor_origin.id, horizon],
  );
  return rows.map((row) => row.tenant_id);
}

/**
 * Citus: the query above joins every tenant with its shard's rows, which
 * Citus will not run as one statement; so each tenant is asked on its own
 * shard, with that shard's horizon, in one routed statement (its cursor and
 * whether an event is ready after it), a few tenants at a time, up to the
 * round's limit of tenants. Cheap for hundreds of tenants; for many
 * thousands, split the tenants between sequencer processes (docs/scale.md §3).
 */
async function shardTenantsWithPendingEvents(db: Queryable, tenants_max: number): Promise<string[]> {
  return probeEachTenant(
    db,
    async (tenant_id) => {
      const [row] = await db.query<{ pending: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM events e
                         WHERE e.tenant_id = $1
                           AND (e.xid, e.id) > (coalesce(last.xid, $2::xid8), coalesce(last.id, $3::uuid))
                           AND e.xid < pg_snapshot_xmin(pg_current_snapshot())) AS pending
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT e.xid, e.id FROM event_seqs s JOIN events e ON e.tenant_id = $1 AND e.id = s.event_id
              WHERE s.tenant_id = $1 ORDER BY s.seq DESC LIMIT 1) AS last ON true`,
        [tenant_id, cursor_origin.xid, cursor_origin.id],
      );
      return row?.pending === true ? tenant_id : undefined;
    },
    tenants_max,
  );
}
