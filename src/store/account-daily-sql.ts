import { assert } from "../core/assert.ts";
import { probeEachTenant } from "./citus-sql.ts";
import type { Queryable } from "./database.ts";

// SQL of the daily aggregates (migration 050). The fold reads the log's
// leaves after the cursor: a leaf's record id is its journal transaction's id
// (non-journal records simply find no transaction), so the leaves are the
// journal in commit order, and every transaction is folded exactly once.

export const fold_leaves_max = 20_000;

export interface FoldResult {
  /** The last leaf folded before this round (-1: none yet). */
  after_leaf: bigint;
  /** The round's last leaf; equal to after_leaf when nothing is new. */
  through_leaf: bigint;
  leaves: number;
  /** account_daily rows inserted or updated (0 when nothing was written). */
  rows: number;
  /**
   * Split credits with no stored pieces (orders booked before migration 056),
   * when the caller gave no recomputed pieces: nothing was written, and the
   * caller folds the same leaves again with their pieces.
   */
  unstored: SplitCredit[];
}

/** A split's credit to a held account: what the fold cuts into pieces. */
export interface SplitCredit {
  transaction_id: string;
  seq: number;
  order_id: string | null;
  account_id: string;
  party_id: string;
  amount_minor: bigint;
}

/** One posting's part under an aggregate kind: the fold books these instead of the posting whole. */
export interface PieceRow {
  transaction_id: string;
  seq: number;
  kind: string;
  amount_minor: bigint;
}

export interface FoldRound {
  leaves_max: number;
  /** Fold no leaf after this one (null: as many as leaves_max allows); a second pass names the first's last leaf. */
  through_leaf_max: bigint | null;
  /** The pieces of the unstored credits, recomputed by the caller; null on a first pass. */
  recomputed: readonly PieceRow[] | null;
}

// One statement reads the round's leaves, their journal transactions, their
// postings once, each posting's account and each split's order row, and folds
// them (decisions §40). A split's credit to a held account is booked as the
// pieces the booking stored on its order (migration 056) when they are
// readable: the party has one such credit in the split, its entry is an object
// of one or more `split:` kinds with amounts as decimal text that fit int8 and
// sum to the posting. Any other credit stays whole under its journal kind, so
// the aggregates are exact whatever the stored pieces say. A credit with no
// stored entry is cut by the caller's recomputed pieces, or, on a first pass
// (no pieces given), makes the statement write nothing and return it.
export const fold_round_sql = `
WITH cur AS (
  SELECT coalesce((SELECT c.leaf_index FROM report_fold_cursors c WHERE c.tenant_id = $1), -1) AS leaf_index),
leaves AS (
  SELECT l.leaf_index, l.record_id FROM log_leaves l, cur
   WHERE l.tenant_id = $1 AND l.leaf_index > cur.leaf_index
     AND l.leaf_index <= coalesce($3::int8, 9223372036854775807)
   ORDER BY l.leaf_index LIMIT $2),
-- Leaves in record id order (a leaf's record id is its transaction's), so the
-- postings come out in (transaction, seq) order and the windows sort only
-- each transaction's few rows by party (an incremental sort). A credit's
-- entry is expanded once, a row per piece; any other posting is one row.
-- Each posting, or each piece of a cut credit, goes into its day's aggregate
-- as it streams by: only the aggregates (a few hundred rows) are kept.
folded AS (
  SELECT c.account_id, c.day, CASE WHEN c.cut THEN c.piece_kind ELSE c.kind END AS kind,
         sum(CASE WHEN c.cut THEN c.piece_minor ELSE c.amount_minor END)::int8 AS amount_minor, count(*) AS postings,
         jsonb_agg(jsonb_build_object('transaction_id', c.transaction_id, 'seq', c.seq, 'order_id', c.order_id,
                                      'account_id', c.account_id, 'party_id', c.party_id,
                                      'amount_minor', c.amount_minor::text))
           FILTER (WHERE c.unstored AND c.first_row) AS unstored
    FROM (
      SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date AS day, j.kind, p.amount_minor,
             l.record_id AS transaction_id, p.seq, j.order_id, a.party_id, c.unstored, e.piece_kind, e.piece_minor,
             coalesce(e.ordinality, 1) = 1 AS first_row,
             -- One window over the party's rows in the transaction: when the party has one credit (the
             -- smallest and largest credited seq agree), its credit rows are that posting's pieces.
             c.credit AND e.ordinality IS NOT NULL
               AND min(p.seq) FILTER (WHERE c.credit) OVER party = max(p.seq) FILTER (WHERE c.credit) OVER party
               AND bool_and(starts_with(e.piece_kind, 'split:') AND e.piece_minor IS NOT NULL) FILTER (WHERE c.credit) OVER party
               AND sum(e.piece_minor) FILTER (WHERE c.credit) OVER party = p.amount_minor AS cut
        FROM (SELECT record_id FROM leaves ORDER BY record_id) l
        -- Index probes per leaf whatever the statistics say (decisions §13): a join let the planner
        -- scan all of the tenant's journal transactions for a round of 500 leaves.
        CROSS JOIN LATERAL (
          SELECT j.kind, j.order_id FROM journal_transactions j
           WHERE j.tenant_id = $1 AND j.id = l.record_id LIMIT 1) j
        LEFT JOIN LATERAL (
          SELECT o.split_pieces FROM orders o
           WHERE j.kind = 'split' AND j.order_id IS NOT NULL
             AND o.tenant_id = $1 AND o.id = j.order_id AND o.transaction_id = l.record_id LIMIT 1) o ON true
        CROSS JOIN LATERAL (
          SELECT p.seq, p.account_id, p.amount_minor, p.effective_at FROM postings p
           WHERE p.tenant_id = $1 AND p.transaction_id = l.record_id OFFSET 0) p
        LEFT JOIN LATERAL (
          SELECT a.party_id, a.purpose FROM accounts a WHERE a.tenant_id = $1 AND a.id = p.account_id LIMIT 1) a ON true
        CROSS JOIN LATERAL (
          SELECT (j.kind = 'split' AND j.order_id IS NOT NULL AND p.amount_minor > 0 AND a.purpose = 'held') IS TRUE AS credit,
                 o.split_pieces -> a.party_id AS stored) s
        CROSS JOIN LATERAL (
          SELECT s.credit AS credit, s.credit AND (s.stored IS NULL OR jsonb_typeof(s.stored) = 'null') AS unstored) u
        CROSS JOIN LATERAL (
          SELECT u.credit, u.unstored,
                 CASE WHEN NOT u.credit THEN NULL
                      WHEN NOT u.unstored THEN s.stored
                      ELSE $5::text::jsonb -> (l.record_id::text || '#' || p.seq) END AS pieces) c
        LEFT JOIN LATERAL (
          SELECT e.key AS piece_kind, e.ordinality,
                 -- Decimal text that fits int8, else NULL (unreadable): a JSON number or 1e2 is not a piece.
                 CASE WHEN jsonb_typeof(e.value) <> 'string' THEN NULL
                      WHEN (e.value #>> '{}') ~ '^-?[0-9]{1,18}$' THEN (e.value #>> '{}')::int8
                      WHEN (e.value #>> '{}') ~ '^-?[0-9]{19}$'
                           AND (e.value #>> '{}')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
                        THEN (e.value #>> '{}')::numeric::int8
                      END AS piece_minor
            FROM jsonb_each(CASE WHEN jsonb_typeof(c.pieces) = 'object' THEN c.pieces END)
                 WITH ORDINALITY AS e(key, value, ordinality)
        ) e ON true
      WINDOW party AS (PARTITION BY l.record_id, a.party_id)) c
   WHERE c.cut IS TRUE OR c.first_row
   GROUP BY 1, 2, 3),
go AS (
  SELECT $4::bool OR NOT EXISTS (SELECT 1 FROM folded WHERE unstored IS NOT NULL) AS ok),
upserted AS (
  INSERT INTO account_daily (tenant_id, account_id, day, kind, amount_minor, postings)
  SELECT $1, f.account_id, f.day, f.kind, f.amount_minor, f.postings FROM folded f, go WHERE go.ok
  ON CONFLICT (tenant_id, account_id, day, kind) DO UPDATE
    SET amount_minor = account_daily.amount_minor + EXCLUDED.amount_minor,
        postings = account_daily.postings + EXCLUDED.postings
  RETURNING 1),
moved AS (
  INSERT INTO report_fold_cursors (tenant_id, leaf_index, updated_at, record_xid, record_id)
  SELECT $1, l.leaf_index, $6::timestamptz, r.xid, r.id
    FROM go, (SELECT leaf_index, record_id FROM leaves ORDER BY leaf_index DESC LIMIT 1) l
    JOIN log_records r ON r.tenant_id = $1 AND r.id = l.record_id
   WHERE go.ok
  ON CONFLICT (tenant_id) DO UPDATE
    SET leaf_index = EXCLUDED.leaf_index, updated_at = EXCLUDED.updated_at,
        record_xid = EXCLUDED.record_xid, record_id = EXCLUDED.record_id
  RETURNING leaf_index)
SELECT (SELECT leaf_index FROM cur)::text AS after_leaf, (SELECT max(leaf_index) FROM leaves)::text AS through_leaf,
       (SELECT count(*) FROM leaves) AS leaves, (SELECT count(*) FROM upserted) AS rows,
       (SELECT count(*) FROM moved) AS moved,
       (SELECT jsonb_agg(u.credit) FROM folded f, jsonb_array_elements(f.unstored) AS u(credit)
         WHERE NOT $4::bool)::text AS unstored`;

/**
 * Folds the next leaves after the cursor into account_daily and moves the
 * cursor, in the caller's transaction, in one statement. Postings are booked
 * under their journal kind, a split's credits to held accounts as their pieces.
 */
export async function foldNextLeaves(
  tx: Queryable,
  tenant_id: string,
  round: FoldRound,
  now: Date,
): Promise<FoldResult> {
  assert(round.leaves_max >= 1 && round.leaves_max <= fold_leaves_max, "leaves_max out of range");
  const pieces = round.recomputed ?? [];
  const [row] = await tx.query<{
    after_leaf: string;
    through_leaf: string | null;
    leaves: bigint;
    rows: bigint;
    moved: bigint;
    unstored: string | null;
  }>(fold_round_sql, [
    tenant_id,
    round.leaves_max,
    round.through_leaf_max,
    round.recomputed !== null,
    piecesJson(pieces),
    now,
  ]);
  assert(row !== undefined, "the fold returned no row");
  const after_leaf = BigInt(row.after_leaf);
  const leaves = Number(row.leaves);
  const through_leaf = row.through_leaf === null ? after_leaf : BigInt(row.through_leaf);
  const unstored = row.unstored === null ? [] : splitCredits(row.unstored);
  assert(round.recomputed === null || unstored.length === 0, "a second pass returns no unstored credit");
  const moved = Number(row.moved);
  if (leaves > 0 && unstored.length === 0)
    assert(moved === 1, `the fold cursor did not move to leaf ${through_leaf}`);
  else assert(moved === 0, "the fold cursor moved without folding");
  return { after_leaf, through_leaf, leaves, rows: Number(row.rows), unstored };
}

/** The recomputed pieces as {"<transaction id>#<seq>": {"<kind>": "<minor units>"}}: looked up per credit, never joined. */
function piecesJson(pieces: readonly PieceRow[]): string {
  const by_posting: Record<string, Record<string, string>> = {};
  for (const piece of pieces) {
    const key = `${piece.transaction_id}#${piece.seq}`;
    const own = by_posting[key] ?? {};
    by_posting[key] = own;
    assert(own[piece.kind] === undefined, `posting ${key} has two pieces of kind ${piece.kind}`);
    own[piece.kind] = piece.amount_minor.toString();
  }
  return JSON.stringify(by_posting);
}

function splitCredits(json: string): SplitCredit[] {
  const rows = JSON.parse(json) as (Omit<SplitCredit, "amount_minor"> & { amount_minor: string })[];
  return rows.map((row) => ({ ...row, amount_minor: BigInt(row.amount_minor) }));
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
