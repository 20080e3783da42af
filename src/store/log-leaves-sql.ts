import { assert } from "../core/assert.ts";
import type { LogRecordKind } from "../core/log/records.ts";
import type { Queryable } from "./database.ts";

// Where the sequencer stands in a tenant's queue of log records.
//
// Records become leaves in (xid, id) order, and a round takes only records
// with xid < pg_snapshot_xmin: every transaction below that has ended, so
// every record it wrote is visible to the round. Hence every record at or
// before the last leaf's (xid, id) is already a leaf, and the next round takes
// exactly the records after it. A transaction that commits late has an xid at
// or above the xmin of every round that ran while it was open, so it is never
// behind the cursor.
//
// The cursor is derived from the last leaf (two primary-key probes) rather
// than kept in a per-tenant row: such a row would be updated every round,
// bringing back the UPDATE this design removes, and it could disagree with
// the leaves. Derived, it is exactly as durable and as consistent as they are.

export interface LogCursor {
  /** xid8 as decimal text: it exceeds 2^53 in principle, and no driver maps it. */
  xid: string;
  id: string;
}

/**
 * The (xid, id) of the record of leaf row `alias`, as a lateral subquery: one
 * primary-key probe. Written as a plain join, a plan made with stale
 * statistics (autovacuum off, or behind a fast-growing log) can read all of
 * the tenant's records for it, and that grows with the log. LIMIT 1 keeps the
 * subquery from being flattened into such a join.
 */
function recordOfLeaf(alias: string, tenant: string): string {
  // The tenant as a parameter, not `${alias}.tenant_id`: Citus then routes the
  // whole query to the tenant's shard (issue 20).
  return `SELECT xid, id FROM log_records WHERE tenant_id = ${tenant} AND id = ${alias}.record_id LIMIT 1`;
}

/** Before every record: xid 0 is never assigned (InvalidTransactionId). */
export const cursor_origin: LogCursor = { xid: "0", id: "00000000-0000-0000-0000-000000000000" };

/** The (xid, id) of leaf `size - 1`, the last of a log of `size` leaves; the origin for an empty log. */
export async function cursorAt(tx: Queryable, tenant_id: string, size: bigint): Promise<LogCursor> {
  assert(size >= 0n, "log size must not be negative");
  if (size === 0n) return cursor_origin;
  const [row] = await tx.query<{ xid: string; id: string; issued: boolean }>(
    `SELECT r.xid::text AS xid, r.id::text AS id,
            r.xid < pg_snapshot_xmax(pg_current_snapshot()) AS issued
       FROM log_leaves l CROSS JOIN LATERAL (${recordOfLeaf("l", "$1")}) AS r
      WHERE l.tenant_id = $1 AND l.leaf_index = $2`,
    [tenant_id, size - 1n],
  );
  assert(row !== undefined, `log of ${tenant_id} at size ${size} has no record for leaf ${size - 1n}`);
  // A cluster restored from a dump hands out xids below the stored ones: its
  // new records would sort before the cursor and never be taken. Stop loudly.
  assert(
    row.issued,
    `log of ${tenant_id}: leaf ${size - 1n} has xid ${row.xid}, which this server has not issued yet (restored into another cluster?)`,
  );
  return { xid: row.xid, id: row.id };
}

/**
 * The first visible record after the last leaf in (xid, id) order, whether
 * or not it is below the horizon yet: the record that has waited longest,
 * give or take the order in which concurrent writers took their xids. A few
 * index probes, so it stays cheap however long the queue or the log.
 */
export async function firstUnsequenced(
  db: Queryable,
  tenant_id: string,
): Promise<{ id: string; created_at: Date } | undefined> {
  const [row] = await db.query<{ id: string; created_at: Date }>(
    `WITH last AS (
       SELECT r.xid, r.id
         FROM (SELECT tenant_id, record_id FROM log_leaves WHERE tenant_id = $1 ORDER BY leaf_index DESC LIMIT 1) AS l
        CROSS JOIN LATERAL (${recordOfLeaf("l", "$1")}) AS r)
     SELECT q.id::text AS id, q.created_at FROM log_records q
      WHERE q.tenant_id = $1
        AND (q.xid, q.id) > (coalesce((SELECT xid FROM last), $2::xid8), coalesce((SELECT id FROM last), $3::uuid))
      ORDER BY q.xid, q.id LIMIT 1`,
    [tenant_id, cursor_origin.xid, cursor_origin.id],
  );
  return row;
}

/**
 * The records committed after `cursor` and below the horizon, in (xid, id)
 * order: the next round's leaves, at most `batch_max` of them.
 */
export function recordsAfter(
  tx: Queryable,
  tenant_id: string,
  cursor: LogCursor,
  batch_max: number,
): Promise<{ id: string; record_sha256: Uint8Array }[]> {
  assert(batch_max >= 1, "a round takes at least one record");
  return tx.query<{ id: string; record_sha256: Uint8Array }>(
    // r.id, not id: a bare name in ORDER BY means the output column, the
    // text, whose sort is not the index's (and could disagree with the cursor's uuid order).
    `SELECT r.id::text AS id, r.record_sha256 FROM log_records r
      WHERE r.tenant_id = $1 AND (r.xid, r.id) > ($2::xid8, $3::uuid)
        AND r.xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY r.xid, r.id LIMIT $4`,
    [tenant_id, cursor.xid, cursor.id, batch_max],
  );
}

/** One insert for the whole batch: leaf index = first + position in (xid, id) order. */
export async function insertLeaves(
  tx: Queryable,
  tenant_id: string,
  first: bigint,
  ids: readonly string[],
): Promise<void> {
  // The primary key refuses an index given twice, the unique key a record sequenced twice.
  const [inserted] = await tx.query<{ count: bigint }>(
    `WITH inserted AS (
       INSERT INTO log_leaves (tenant_id, leaf_index, record_id)
       SELECT $1, $2::int8 + u.position - 1, u.id
         FROM unnest($3::uuid[]) WITH ORDINALITY AS u(id, position)
       RETURNING 1)
     SELECT count(*) AS count FROM inserted`,
    [tenant_id, first, ids],
  );
  assert(
    BigInt(inserted?.count ?? -1) === BigInt(ids.length),
    `inserted ${inserted?.count} of ${ids.length} leaves`,
  );
}

export interface LeafRecordRow {
  id: string;
  kind: LogRecordKind;
  salt: Uint8Array;
  disclosure_seed: Uint8Array | null;
  record_sha256: Uint8Array;
  leaf_index: bigint;
}

/** The records of leaves [start, end) with their leaf index, in leaf order. */
export function selectLeafRecords(
  db: Queryable,
  tenant_id: string,
  start: bigint,
  end: bigint,
): Promise<LeafRecordRow[]> {
  return db.query<LeafRecordRow & Record<string, unknown>>(
    `SELECT r.id::text, r.kind, r.salt, r.disclosure_seed, r.record_sha256, l.leaf_index
       FROM log_leaves l JOIN log_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id
      WHERE l.tenant_id = $1 AND l.leaf_index >= $2 AND l.leaf_index < $3 ORDER BY l.leaf_index`,
    [tenant_id, start, end],
  );
}

/** The record hashes of leaves [start, end), in leaf order (an entries tile's content). */
export function selectLeafRecordHashes(
  db: Queryable,
  tenant_id: string,
  start: bigint,
  end: bigint,
): Promise<{ leaf_index: bigint; record_sha256: Uint8Array }[]> {
  return db.query<{ leaf_index: bigint; record_sha256: Uint8Array }>(
    `SELECT l.leaf_index, r.record_sha256
       FROM log_leaves l JOIN log_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id
      WHERE l.tenant_id = $1 AND l.leaf_index >= $2 AND l.leaf_index < $3 ORDER BY l.leaf_index`,
    [tenant_id, start, end],
  );
}

/** How many leaves have an index at or beyond `size`. */
export async function countLeavesFrom(db: Queryable, tenant_id: string, size: bigint): Promise<bigint> {
  const rows = await db.query<{ count: bigint }>(
    "SELECT count(*) AS count FROM log_leaves WHERE tenant_id = $1 AND leaf_index >= $2",
    [tenant_id, size],
  );
  return BigInt(rows[0]?.count ?? 0n);
}

/** Every record of the tenant with no leaf yet, oldest first (not only those after the sequencer's cursor). */
export function selectRecordsWithoutLeaf(
  db: Queryable,
  tenant_id: string,
): Promise<{ id: string; kind: string; created_at: Date }[]> {
  return db.query<{ id: string; kind: string; created_at: Date }>(
    `SELECT r.id::text, r.kind, r.created_at FROM log_records r
      WHERE r.tenant_id = $1
        AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.tenant_id = r.tenant_id AND l.record_id = r.id)
      ORDER BY r.created_at`,
    [tenant_id],
  );
}

/** How many of the tenant's records have no leaf yet. */
export async function countRecordsWithoutLeaf(db: Queryable, tenant_id: string): Promise<bigint> {
  const rows = await db.query<{ count: bigint }>(
    `SELECT count(*) AS count FROM log_records r
  WHERE r.tenant_id = $1
    AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.tenant_id = r.tenant_id AND l.record_id = r.id)`,
    [tenant_id],
  );
  return BigInt(rows[0]?.count ?? 0n);
}
