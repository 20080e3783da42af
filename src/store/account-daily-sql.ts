import { assert } from "../core/assert.ts";
import { probeEachTenant } from "./citus-sql.ts";
import type { Queryable } from "./database.ts";

// SQL of the daily aggregates (migration 050). The fold reads the log's
// leaves after the cursor: a leaf's record id is its journal transaction's id
// (non-journal records simply find no transaction), so the leaves are the
// journal in commit order, and every transaction is folded exactly once.

export const fold_leaves_max = 20_000;

export interface FoldResult {
  leaves: number;
  rows: number;
  cursor: bigint;
}

export interface FoldBatch {
  /** The last leaf folded before this batch (-1: none yet). */
  after_leaf: bigint;
  /** The batch's last leaf; equal to after_leaf when nothing is new. */
  through_leaf: bigint;
  leaves: number;
}

/** The next batch of up to `leaves_max` leaves after the fold's cursor. */
export async function nextFoldBatch(
  tx: Queryable,
  tenant_id: string,
  leaves_max: number,
): Promise<FoldBatch> {
  assert(leaves_max >= 1 && leaves_max <= fold_leaves_max, "leaves_max out of range");
  const [row] = await tx.query<{ after_leaf: string; through_leaf: string | null; leaves: bigint }>(
    `WITH cur AS (
       SELECT coalesce((SELECT leaf_index FROM report_fold_cursors WHERE tenant_id = $1), -1) AS leaf_index),
     leaves AS (
       SELECT l.leaf_index FROM log_leaves l, cur
        WHERE l.tenant_id = $1 AND l.leaf_index > cur.leaf_index
        ORDER BY l.leaf_index LIMIT $2)
     SELECT (SELECT leaf_index FROM cur)::text AS after_leaf, (SELECT max(leaf_index) FROM leaves)::text AS through_leaf,
            (SELECT count(*) FROM leaves) AS leaves`,
    [tenant_id, leaves_max],
  );
  assert(row !== undefined, "the fold batch query returned no row");
  const after_leaf = BigInt(row.after_leaf);
  return {
    after_leaf,
    through_leaf: row.through_leaf === null ? after_leaf : BigInt(row.through_leaf),
    leaves: Number(row.leaves),
  };
}

export interface SplitCredit {
  transaction_id: string;
  seq: number;
  order_id: string | null;
  account_id: string;
  party_id: string;
  amount_minor: bigint;
  /** The pieces the booking stored for this party (migration 056): kind -> minor units as text; null before it. */
  stored_pieces: Record<string, string> | null;
}

/** The credits to held accounts of the split transactions in a batch: what the fold cuts into pieces. */
export async function splitCreditsIn(
  tx: Queryable,
  tenant_id: string,
  batch: FoldBatch,
): Promise<SplitCredit[]> {
  if (batch.leaves === 0) return [];
  const rows = await tx.query<Omit<SplitCredit, "amount_minor"> & { amount_minor: string }>(
    `SELECT p.transaction_id::text AS transaction_id, p.seq, j.order_id, p.account_id::text AS account_id,
            a.party_id, p.amount_minor::text AS amount_minor, o.split_pieces -> a.party_id AS stored_pieces
       FROM log_leaves l
       JOIN journal_transactions j ON j.tenant_id = $1 AND j.id = l.record_id AND j.kind = 'split' AND j.order_id IS NOT NULL
       JOIN postings p ON p.tenant_id = $1 AND p.transaction_id = j.id AND p.amount_minor > 0
       JOIN accounts a ON a.tenant_id = $1 AND a.id = p.account_id AND a.purpose = 'held'
       LEFT JOIN orders o ON o.tenant_id = $1 AND o.id = j.order_id AND o.transaction_id = j.id
      WHERE l.tenant_id = $1 AND l.leaf_index > $2 AND l.leaf_index <= $3`,
    [tenant_id, batch.after_leaf, batch.through_leaf],
  );
  return rows.map((row) => ({ ...row, seq: Number(row.seq), amount_minor: BigInt(row.amount_minor) }));
}

/** One posting's part under an aggregate kind: the fold books these instead of the posting whole. */
export interface PieceRow {
  transaction_id: string;
  seq: number;
  kind: string;
  amount_minor: bigint;
}

/**
 * Folds the batch's leaves into account_daily and moves the cursor, in the
 * caller's transaction. Postings named in `pieces` are booked as their pieces
 * (which must sum to them); every other posting under its journal kind.
 */
export async function foldLeaves(
  tx: Queryable,
  tenant_id: string,
  batch: FoldBatch,
  pieces: readonly PieceRow[],
  now: Date,
): Promise<FoldResult> {
  if (batch.leaves === 0) return { leaves: 0, rows: 0, cursor: batch.after_leaf };
  assert(batch.through_leaf > batch.after_leaf, "a batch with leaves moves the cursor forward");
  const [row] = await tx.query<{ rows: bigint; moved: bigint }>(
    `WITH leaves AS (
       SELECT l.record_id FROM log_leaves l WHERE l.tenant_id = $1 AND l.leaf_index > $2 AND l.leaf_index <= $3),
     cut AS (
       SELECT c.transaction_id, c.seq, c.kind, c.amount_minor::int8 AS amount_minor
         FROM unnest($5::uuid[], $6::int2[], $7::text[], $8::text[]) AS c(transaction_id, seq, kind, amount_minor)),
     whole AS (
       SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date AS day, j.kind,
              sum(p.amount_minor)::int8 AS amount_minor, count(*)::int8 AS postings
         FROM leaves l
         JOIN journal_transactions j ON j.tenant_id = $1 AND j.id = l.record_id
         JOIN postings p ON p.tenant_id = $1 AND p.transaction_id = j.id
        GROUP BY 1, 2, 3),
     cut_out AS (
       SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date AS day, j.kind,
              -sum(p.amount_minor)::int8 AS amount_minor, -count(*)::int8 AS postings
         FROM (SELECT DISTINCT transaction_id, seq FROM cut) c
         JOIN postings p ON p.tenant_id = $1 AND p.transaction_id = c.transaction_id AND p.seq = c.seq
         JOIN journal_transactions j ON j.tenant_id = $1 AND j.id = p.transaction_id
        GROUP BY 1, 2, 3),
     cut_folded AS (
       SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date AS day, c.kind,
              sum(c.amount_minor)::int8 AS amount_minor, count(*)::int8 AS postings
         FROM cut c JOIN postings p ON p.tenant_id = $1 AND p.transaction_id = c.transaction_id AND p.seq = c.seq
        GROUP BY 1, 2, 3),
     -- Every posting under its journal kind, less the cut ones, plus their pieces.
     -- A subtraction, not NOT EXISTS over the cut: that anti-join ran as a
     -- nested loop (the unnest's row estimate is a guess) and cost O(postings
     -- x pieces) per batch, seconds of database CPU per thousand orders.
     -- A group whose postings were all cut nets to zero and is dropped.
     folded AS (
       SELECT account_id, day, kind, sum(amount_minor)::int8 AS amount_minor, sum(postings)::int8 AS postings
         FROM (SELECT * FROM whole UNION ALL SELECT * FROM cut_out UNION ALL SELECT * FROM cut_folded) f
        GROUP BY 1, 2, 3
       HAVING sum(postings) <> 0),
     upserted AS (
       INSERT INTO account_daily (tenant_id, account_id, day, kind, amount_minor, postings)
       SELECT $1, account_id, day, kind, amount_minor, postings FROM folded
       ON CONFLICT (tenant_id, account_id, day, kind) DO UPDATE
         SET amount_minor = account_daily.amount_minor + EXCLUDED.amount_minor,
             postings = account_daily.postings + EXCLUDED.postings
       RETURNING 1),
     moved AS (
       INSERT INTO report_fold_cursors (tenant_id, leaf_index, updated_at, record_xid, record_id)
       SELECT $1, $3, $4::timestamptz, r.xid, r.id
         FROM log_leaves l JOIN log_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id
        WHERE l.tenant_id = $1 AND l.leaf_index = $3
       ON CONFLICT (tenant_id) DO UPDATE
         SET leaf_index = EXCLUDED.leaf_index, updated_at = EXCLUDED.updated_at,
             record_xid = EXCLUDED.record_xid, record_id = EXCLUDED.record_id
       RETURNING leaf_index)
     SELECT (SELECT count(*) FROM upserted) AS rows, (SELECT count(*) FROM moved) AS moved`,
    [
      tenant_id,
      batch.after_leaf,
      batch.through_leaf,
      now,
      pieces.map((piece) => piece.transaction_id),
      pieces.map((piece) => piece.seq),
      pieces.map((piece) => piece.kind),
      pieces.map((piece) => piece.amount_minor.toString()),
    ],
  );
  assert(row !== undefined, "the fold returned no row");
  assert(Number(row.moved) === 1, `the fold cursor did not move to leaf ${batch.through_leaf}`);
  return { leaves: batch.leaves, rows: Number(row.rows), cursor: batch.through_leaf };
}

/** Tenants whose log has leaves the fold has not taken yet. */
export async function tenantsBehind(db: Queryable): Promise<string[]> {
  if (db.sharded === true) return tenantsBehindOnShards(db);
  const rows = await db.query<{ tenant_id: string }>(
    `SELECT t.id AS tenant_id FROM tenants t
      WHERE EXISTS (SELECT 1 FROM log_leaves l
                     WHERE l.tenant_id = t.id
                       AND l.leaf_index > coalesce((SELECT leaf_index FROM report_fold_cursors c WHERE c.tenant_id = t.id), -1))
      ORDER BY t.id`,
  );
  return rows.map((row) => row.tenant_id);
}

/** Citus (issue 20) runs no correlated subquery over the tenants reference table: each tenant's shard is asked. */
async function tenantsBehindOnShards(db: Queryable): Promise<string[]> {
  return probeEachTenant(db, async (tenant_id) => {
    const [row] = await db.query<{ behind: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM log_leaves l
                       WHERE l.tenant_id = $1
                         AND l.leaf_index > coalesce((SELECT leaf_index FROM report_fold_cursors c WHERE c.tenant_id = $1), -1)) AS behind`,
      [tenant_id],
    );
    return row?.behind === true ? tenant_id : undefined;
  });
}

export interface AccountRef {
  id: string;
  purpose: string;
}

/** A party's accounts in one currency. */
export async function partyAccountsIn(
  tx: Queryable,
  tenant_id: string,
  party_id: string,
  currency: string,
): Promise<AccountRef[]> {
  return tx.query<AccountRef & Record<string, unknown>>(
    `SELECT id::text, purpose FROM accounts WHERE tenant_id = $1 AND party_id = $2 AND currency = $3 ORDER BY id`,
    [tenant_id, party_id, currency],
  );
}

/** The currencies a party has accounts in. */
export async function partyCurrencies(tx: Queryable, tenant_id: string, party_id: string): Promise<string[]> {
  const rows = await tx.query<{ currency: string }>(
    "SELECT DISTINCT currency::text AS currency FROM accounts WHERE tenant_id = $1 AND party_id = $2 ORDER BY 1",
    [tenant_id, party_id],
  );
  return rows.map((row) => row.currency);
}

export interface DailySums {
  account_id: string;
  kind: string;
  before_minor: bigint;
  within_minor: bigint;
}

/** Σ of the folded aggregates per account and kind: days before `from_day`, and days in [from_day, to_day). */
export async function dailySums(
  tx: Queryable,
  tenant_id: string,
  account_ids: readonly string[],
  from_day: string,
  to_day: string,
): Promise<DailySums[]> {
  if (account_ids.length === 0) return [];
  const rows = await tx.query<{
    account_id: string;
    kind: string;
    before_minor: string;
    within_minor: string;
  }>(
    `SELECT account_id::text, kind,
            coalesce(sum(amount_minor) FILTER (WHERE day < $3::date), 0)::text AS before_minor,
            coalesce(sum(amount_minor) FILTER (WHERE day >= $3::date), 0)::text AS within_minor
       FROM account_daily
      WHERE tenant_id = $1 AND account_id = ANY($2::uuid[]) AND day < $4::date
      GROUP BY account_id, kind`,
    [tenant_id, account_ids, from_day, to_day],
  );
  return rows.map((row) => ({
    account_id: row.account_id,
    kind: row.kind,
    before_minor: BigInt(row.before_minor),
    within_minor: BigInt(row.within_minor),
  }));
}

export interface TailPosting {
  account_id: string;
  seq: number;
  order_id: string | null;
  kind: string;
  effective_at: Date;
  amount_minor: bigint;
  transaction_id: string;
}

/**
 * Postings on these accounts before `to` of journal transactions the fold has
 * not taken: their log records come after the cursor's record in (xid, id)
 * order, the order leaves are given in. The cursor keeps that record's
 * position itself (migration 055): under a party's row security the record
 * may be another party's, and invisible. Read in the same snapshot as the
 * aggregates, so each transaction is counted once, in one place or the other.
 */
export async function tailPostings(
  tx: Queryable,
  tenant_id: string,
  account_ids: readonly string[],
  to: Date,
): Promise<TailPosting[]> {
  if (account_ids.length === 0) return [];
  return tx.query<TailPosting & Record<string, unknown>>(
    `WITH cur AS (
       SELECT c.record_xid AS xid, c.record_id AS id FROM report_fold_cursors c
        WHERE c.tenant_id = $1 AND c.record_id IS NOT NULL),
     pending AS (
       SELECT r.id FROM log_records r
        WHERE r.tenant_id = $1 AND r.kind = 'journal_transaction'
          AND (NOT EXISTS (SELECT 1 FROM cur) OR (r.xid, r.id) > (SELECT xid, id FROM cur)))
     SELECT p.account_id::text AS account_id, p.seq, j.order_id, j.kind, p.effective_at, p.amount_minor,
            j.id::text AS transaction_id
       FROM pending
       JOIN journal_transactions j ON j.tenant_id = $1 AND j.id = pending.id
       JOIN postings p ON p.tenant_id = $1 AND p.transaction_id = j.id
      WHERE p.account_id = ANY($2::uuid[]) AND p.effective_at < $3::timestamptz`,
    [tenant_id, account_ids, to],
  );
}

/**
 * Rebuilds the daily aggregates of some accounts from their postings, in one
 * statement: for postings that never went through the log (the report bench
 * generates them in SQL) and as a repair tool. Replaces what was there.
 */
export async function rebuildAccountDaily(
  tx: Queryable,
  tenant_id: string,
  account_ids: readonly string[],
): Promise<number> {
  await tx.query("DELETE FROM account_daily WHERE tenant_id = $1 AND account_id = ANY($2::uuid[])", [
    tenant_id,
    account_ids,
  ]);
  const [row] = await tx.query<{ count: bigint }>(
    `WITH inserted AS (
       INSERT INTO account_daily (tenant_id, account_id, day, kind, amount_minor, postings)
       SELECT $1, p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date, j.kind, sum(p.amount_minor)::int8, count(*)
         FROM postings p JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
        WHERE p.tenant_id = $1 AND p.account_id = ANY($2::uuid[])
        GROUP BY 1, 2, 3, 4
       RETURNING 1)
     SELECT count(*) AS count FROM inserted`,
    [tenant_id, account_ids],
  );
  return Number(row?.count ?? 0);
}
