import { assert } from "../core/assert.ts";
import { orderHeldByCaseSql, partyHeldByCaseSql } from "./audit-holds-sql.ts";
import type { Queryable } from "./database.ts";
import { type CoveredEntry, type PayoutRow, payout_columns, settlement_kinds } from "./settlement-sql.ts";

// The open set of each available account: its entries that no live payout
// covers (migration 092). A run takes in the postings written since the
// account's mark, then reads the open set; neither reads the account's history.

export interface TakeResult {
  /** Postings of the account at or above the old mark: what the take read. */
  scanned: number;
  /** Of those, the ones newly put into the open set. */
  opened: number;
}

/**
 * The postings of the take: the account's, at or above its mark ($3). Its own
 * constant so a test can show the plan reads only these rows (an index range
 * on postings_account_xid), whatever the account's history.
 */
export const fresh_postings_sql = `SELECT p.transaction_id, p.seq, p.amount_minor, p.effective_at
  FROM postings p WHERE p.tenant_id = $1 AND p.account_id = $2 AND p.xid >= $3::text::xid8`;

/**
 * Puts into the open set every posting of `account_id` written at or above
 * its mark that is not of a settlement kind, not open already and not covered
 * by a live payout; then moves the mark to `horizon` (commitHorizon, read in
 * an earlier statement: every transaction below it has ended, so this
 * statement sees all of their postings). A mark above the horizon is taken as
 * no mark: it should come from another server (a dump restored into a younger
 * cluster, whose xids restart lower), and the account's whole history is then
 * taken again, which the skips make harmless. The caller holds the party's
 * settlement lock.
 */
export async function takeNewPostings(
  tx: Queryable,
  tenant_id: string,
  account_id: string,
  horizon: string,
): Promise<TakeResult> {
  assert(/^\d+$/.test(horizon), "the horizon is an xid8 in decimal");
  const [marked] = await tx.query<{ taken_below: string } & Record<string, unknown>>(
    "SELECT taken_below::text FROM settlement_account_marks WHERE tenant_id = $1 AND account_id = $2",
    [tenant_id, account_id],
  );
  const mark =
    marked === undefined || BigInt(marked.taken_below) > BigInt(horizon) ? "0" : marked.taken_below;
  const [row] = await tx.query<{ scanned: string; opened: string; marked: string } & Record<string, unknown>>(
    `WITH fresh AS (${fresh_postings_sql}),
     opened AS (
       INSERT INTO settlement_open_entries (tenant_id, account_id, transaction_id, seq, order_id, amount_minor, effective_at)
       SELECT $1, $2, f.transaction_id, f.seq, j.order_id, f.amount_minor, f.effective_at
         FROM fresh f JOIN journal_transactions j ON j.tenant_id = $1 AND j.id = f.transaction_id
        WHERE j.kind <> ALL($5::text[])
          AND NOT EXISTS (
            SELECT 1 FROM payout_entries pe JOIN payouts po ON po.tenant_id = pe.tenant_id AND po.id = pe.payout_id
             WHERE pe.tenant_id = $1 AND pe.transaction_id = f.transaction_id AND pe.seq = f.seq
               AND po.state IN ('in_transit', 'paid_out'))
       ON CONFLICT (tenant_id, transaction_id, seq) DO NOTHING
       RETURNING 1),
     marked AS (
       INSERT INTO settlement_account_marks (tenant_id, account_id, taken_below) VALUES ($1, $2, $4::text::xid8)
       ON CONFLICT (tenant_id, account_id) DO UPDATE SET taken_below = EXCLUDED.taken_below
       RETURNING 1)
     SELECT (SELECT count(*) FROM fresh)::text AS scanned, (SELECT count(*) FROM opened)::text AS opened,
            (SELECT count(*) FROM marked)::text AS marked`,
    [tenant_id, account_id, mark, horizon, [...settlement_kinds]],
  );
  assert(row !== undefined, "the take returned no row");
  const scanned = Number(row.scanned);
  const opened = Number(row.opened);
  assert(opened >= 0 && opened <= scanned, `opened ${opened} of ${scanned} scanned postings`);
  assert(row.marked === "1", "the account's mark was not written");
  return { scanned, opened };
}

/** Open entries of the account effective before `before`, oldest first; at most `limit`. */
export async function selectOpenEntries(
  tx: Queryable,
  tenant_id: string,
  account_id: string,
  before: Date,
  limit: number,
): Promise<CoveredEntry[]> {
  assert(limit >= 1, "limit must be positive");
  const rows = await tx.query<CoveredEntry & Record<string, unknown>>(
    `SELECT transaction_id::text, seq, order_id, amount_minor, effective_at
       FROM settlement_open_entries
      WHERE tenant_id = $1 AND account_id = $2 AND effective_at < $3
      ORDER BY effective_at, transaction_id, seq
      LIMIT $4`,
    [tenant_id, account_id, before, limit],
  );
  return rows.map((row) => ({ ...row, seq: Number(row.seq), amount_minor: BigInt(row.amount_minor) }));
}

/** A live payout covers these entries: they leave the open set. */
export async function closeOpenEntries(
  tx: Queryable,
  tenant_id: string,
  entries: readonly CoveredEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = await tx.query<{ closed: string } & Record<string, unknown>>(
    `WITH closed AS (
       DELETE FROM settlement_open_entries o
        USING unnest($2::uuid[], $3::int2[]) AS e(transaction_id, seq)
        WHERE o.tenant_id = $1 AND o.transaction_id = e.transaction_id AND o.seq = e.seq
        RETURNING 1)
     SELECT count(*)::text AS closed FROM closed`,
    [tenant_id, entries.map((entry) => entry.transaction_id), entries.map((entry) => entry.seq)],
  );
  assert(
    rows[0]?.closed === String(entries.length),
    `closed ${rows[0]?.closed} open entries of ${entries.length} covered`,
  );
}

export interface DueProbe {
  party_id: string;
  currency: string;
  cycle_key: string;
  /** The party's available account in `currency`. */
  account_id: string;
  /** The cycle's cut-off: only entries effective before it are payable. */
  eligible_before: Date;
}

/** What the one statement found for a due party: its payout of the cycle (a replay), or a reason to look under lock. */
export type DueAnswer = { replay: PayoutRow } | { replay: null };

/**
 * Of a run's due parties, by index, those whose own transaction could do
 * anything, in one statement for all of them (docs/decisions.md §38); a
 * party already paid this cycle comes with its payout, which is the replay's
 * answer, read as settlePartyCycle reads it. Another party is left out only
 * when settlePartyCycle would answer `nothing_due` having written nothing: no
 * open party-level case (else held_by_case), and either its available account
 * holds nothing, or neither its open set nor its postings at or above its
 * mark (the take's read, with the same mark rule against `horizon`) hold an
 * entry of a kind the take keeps, effective before the cut-off, of no order an
 * open case holds (the entries ordersBlockedByAudit leaves out). Read without
 * the party's lock: a party whose funds or payout commit after this read is
 * answered as if its transaction had run first, as any run may be; a payout
 * committed is never undone, so a replay read here is final.
 */
export async function selectPartiesMaybeDue(
  db: Queryable,
  tenant_id: string,
  probes: readonly DueProbe[],
  horizon: string,
): Promise<Map<number, DueAnswer>> {
  assert(/^\d+$/.test(horizon), "the horizon is an xid8 in decimal");
  if (probes.length === 0) return new Map();
  const rows = await db.query<{ ord: string } & Partial<PayoutRow> & Record<string, unknown>>(
    `SELECT c.ord::text AS ord, po.*
       FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[]) WITH ORDINALITY
              AS c(party_id, currency, cycle_key, account_id, before, ord)
       LEFT JOIN settlement_account_marks m ON m.tenant_id = $1 AND m.account_id = c.account_id
       LEFT JOIN LATERAL (SELECT ${payout_columns} FROM payouts
                           WHERE tenant_id = $1 AND party_id = c.party_id AND currency = c.currency
                             AND cycle_key = c.cycle_key) po ON true
      WHERE po.id IS NOT NULL
         OR ${partyHeldByCaseSql("$1", "c.party_id")}
         OR ((SELECT coalesce(sum(b.posted_minor - b.pending_out_minor), 0) FROM balances b
               WHERE b.tenant_id = $1 AND b.account_id = c.account_id) > 0
             AND (EXISTS (SELECT 1 FROM settlement_open_entries o
                           WHERE o.tenant_id = $1 AND o.account_id = c.account_id AND o.effective_at < c.before
                             AND (o.order_id IS NULL OR NOT ${orderHeldByCaseSql("$1", "o.order_id")}))
                  OR EXISTS (SELECT 1 FROM postings p JOIN journal_transactions j ON j.tenant_id = $1 AND j.id = p.transaction_id
                              WHERE p.tenant_id = $1 AND p.account_id = c.account_id AND p.effective_at < c.before
                                AND p.xid >= CASE WHEN m.taken_below IS NULL OR m.taken_below > $7::text::xid8
                                                  THEN '0'::xid8 ELSE m.taken_below END
                                AND j.kind <> ALL($8::text[])
                                AND (j.order_id IS NULL OR NOT ${orderHeldByCaseSql("$1", "j.order_id")}))))
      ORDER BY c.ord`,
    [
      tenant_id,
      probes.map((probe) => probe.party_id),
      probes.map((probe) => probe.currency),
      probes.map((probe) => probe.cycle_key),
      probes.map((probe) => probe.account_id),
      probes.map((probe) => probe.eligible_before),
      horizon,
      [...settlement_kinds],
    ],
  );
  const answers = new Map<number, DueAnswer>();
  for (const { ord, ...payout } of rows) {
    const index = Number(ord) - 1;
    const probe = probes[index];
    assert(probe !== undefined, `index ${index} is a probe's`);
    assert(!answers.has(index), "one row per party at most (payouts_cycle is unique)");
    if (payout.id === null || payout.id === undefined) {
      answers.set(index, { replay: null });
      continue;
    }
    assert(payout.party_id === probe.party_id, "the replayed payout is the party's");
    assert(payout.cycle_key === probe.cycle_key, "the replayed payout is of the cycle");
    answers.set(index, { replay: payout as PayoutRow });
  }
  return answers;
}
