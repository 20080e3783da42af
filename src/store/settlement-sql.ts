import type { Queryable } from "./database.ts";

// SQL for payouts, the entries they cover, and settlement runs (migration 040).

export interface PayoutRow {
  id: string;
  party_id: string;
  currency: string;
  cycle_key: string;
  run_id: string;
  run_date: string;
  period_start: Date | null;
  period_end: Date;
  state: "in_transit" | "paid_out" | "failed" | "carried_over" | "netted";
  eligible_minor: bigint;
  netted_minor: bigint;
  amount_minor: bigint;
  minimum_payout_minor: bigint;
  payout_account_ref: string | null;
  reference: string;
  transaction_id: string | null;
  result_transaction_id: string | null;
  failure_reason: string | null;
  provider_reference: string | null;
  created_at: Date;
  resolved_at: Date | null;
}

export const payout_columns = `id::text, party_id, currency::text AS currency, cycle_key, run_id::text,
  to_char(run_date, 'YYYY-MM-DD') AS run_date, period_start, period_end, state, eligible_minor, netted_minor,
  amount_minor, minimum_payout_minor, payout_account_ref, reference, transaction_id::text,
  result_transaction_id::text, failure_reason, provider_reference, created_at, resolved_at`;

export async function selectPayoutByCycle(
  tx: Queryable,
  tenant_id: string,
  key: { party_id: string; currency: string; cycle_key: string },
): Promise<PayoutRow | undefined> {
  const rows = await tx.query<PayoutRow & Record<string, unknown>>(
    `SELECT ${payout_columns} FROM payouts
      WHERE tenant_id = $1 AND party_id = $2 AND currency = $3 AND cycle_key = $4`,
    [tenant_id, key.party_id, key.currency, key.cycle_key],
  );
  return rows[0];
}

export async function selectPayouts(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
  lock = false,
): Promise<PayoutRow[]> {
  if (ids.length === 0) return [];
  return tx.query<PayoutRow & Record<string, unknown>>(
    `SELECT ${payout_columns} FROM payouts WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id
     ${lock ? "FOR UPDATE" : ""}`,
    [tenant_id, ids],
  );
}

export async function insertPayout(tx: Queryable, tenant_id: string, row: PayoutRow): Promise<void> {
  await tx.query(
    `INSERT INTO payouts (tenant_id, id, party_id, currency, cycle_key, run_id, run_date, period_start, period_end,
       state, eligible_minor, netted_minor, amount_minor, minimum_payout_minor, payout_account_ref, reference,
       transaction_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    [
      tenant_id,
      row.id,
      row.party_id,
      row.currency,
      row.cycle_key,
      row.run_id,
      row.run_date,
      row.period_start,
      row.period_end,
      row.state,
      row.eligible_minor,
      row.netted_minor,
      row.amount_minor,
      row.minimum_payout_minor,
      row.payout_account_ref,
      row.reference,
      row.transaction_id,
      row.created_at,
    ],
  );
}

export async function resolvePayout(
  tx: Queryable,
  tenant_id: string,
  id: string,
  change: {
    state: "paid_out" | "failed";
    result_transaction_id: string;
    failure_reason: string | null;
    provider_reference: string | null;
    resolved_at: Date;
  },
): Promise<void> {
  // A failed payout's entries are free again: back into their account's open set
  // (settlement-open-sql.ts), in the same statement that fails it.
  await tx.query(
    `WITH resolved AS (
       UPDATE payouts SET state = $3, result_transaction_id = $4, failure_reason = $5,
              provider_reference = coalesce($6, provider_reference), resolved_at = $7
        WHERE tenant_id = $1 AND id = $2 AND state = 'in_transit'
        RETURNING id, state)
     INSERT INTO settlement_open_entries (tenant_id, account_id, transaction_id, seq, order_id, amount_minor, effective_at)
     SELECT $1, p.account_id, pe.transaction_id, pe.seq, pe.order_id, pe.amount_minor, p.effective_at
       FROM resolved r
       JOIN payout_entries pe ON pe.tenant_id = $1 AND pe.payout_id = r.id
       JOIN postings p ON p.tenant_id = $1 AND p.transaction_id = pe.transaction_id AND p.seq = pe.seq
      WHERE r.state = 'failed'
     ON CONFLICT (tenant_id, transaction_id, seq) DO NOTHING`,
    [
      tenant_id,
      id,
      change.state,
      change.result_transaction_id,
      change.failure_reason,
      change.provider_reference,
      change.resolved_at,
    ],
  );
}

export interface CoveredEntry {
  transaction_id: string;
  seq: number;
  order_id: string | null;
  amount_minor: bigint;
  effective_at: Date;
}

/** Journal kinds on an available account that a payout moves, never covers. */
export const settlement_kinds = ["settlement", "payout_return"] as const;

/**
 * Entries on an available account not yet covered by a live payout (in
 * transit or paid out), oldest first. A failed payout's entries are free again.
 */
export async function selectUncoveredEntries(
  tx: Queryable,
  tenant_id: string,
  account_id: string,
  before: Date,
  limit: number,
): Promise<CoveredEntry[]> {
  const rows = await tx.query<CoveredEntry & Record<string, unknown>>(
    `SELECT p.transaction_id::text, p.seq, j.order_id, p.amount_minor, p.effective_at
       FROM postings p
       JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
      WHERE p.tenant_id = $1 AND p.account_id = $2 AND p.effective_at < $3
        AND j.kind <> ALL($4::text[])
        AND NOT EXISTS (
          SELECT 1 FROM payout_entries pe JOIN payouts po ON po.tenant_id = pe.tenant_id AND po.id = pe.payout_id
           WHERE pe.tenant_id = p.tenant_id AND pe.transaction_id = p.transaction_id AND pe.seq = p.seq
             AND po.state IN ('in_transit', 'paid_out'))
      ORDER BY p.effective_at, p.transaction_id, p.seq
      LIMIT $5`,
    [tenant_id, account_id, before, [...settlement_kinds], limit],
  );
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

export async function insertPayoutEntries(
  tx: Queryable,
  tenant_id: string,
  payout_id: string,
  entries: readonly CoveredEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `INSERT INTO payout_entries (tenant_id, payout_id, transaction_id, seq, order_id, amount_minor)
     SELECT $1, $2, e.transaction_id, e.seq, e.order_id, e.amount_minor
       FROM unnest($3::uuid[], $4::int2[], $5::text[], $6::int8[]) AS e(transaction_id, seq, order_id, amount_minor)`,
    [
      tenant_id,
      payout_id,
      entries.map((entry) => entry.transaction_id),
      entries.map((entry) => entry.seq),
      entries.map((entry) => entry.order_id),
      entries.map((entry) => entry.amount_minor.toString()),
    ],
  );
}

/**
 * A payout's entries in the order its writer covered them (selectUncoveredEntries:
 * oldest effective_at first), so its log record rebuilds to the hash that was
 * logged even when an entry's effective_at is older than its transaction id
 * (a back-dated entry, or a clock that stepped back). Found by the simulation.
 */
export async function selectPayoutEntries(
  tx: Queryable,
  tenant_id: string,
  payout_ids: readonly string[],
): Promise<Map<string, CoveredEntry[]>> {
  const rows = await tx.query<CoveredEntry & { payout_id: string } & Record<string, unknown>>(
    `SELECT pe.payout_id::text, pe.transaction_id::text, pe.seq, pe.order_id, pe.amount_minor, p.effective_at
       FROM payout_entries pe
       JOIN postings p ON p.tenant_id = pe.tenant_id AND p.transaction_id = pe.transaction_id AND p.seq = pe.seq
      WHERE pe.tenant_id = $1 AND pe.payout_id = ANY($2::uuid[])
      ORDER BY pe.payout_id, p.effective_at, pe.transaction_id, pe.seq`,
    [tenant_id, payout_ids],
  );
  const out = new Map<string, CoveredEntry[]>();
  for (const row of rows) {
    const list = out.get(row.payout_id) ?? [];
    list.push({
      transaction_id: row.transaction_id,
      seq: Number(row.seq),
      order_id: row.order_id,
      amount_minor: BigInt(row.amount_minor),
      effective_at: row.effective_at,
    });
    out.set(row.payout_id, list);
  }
  return out;
}

/** Newest first; one page of a list route (the caller bounds `limit`). */
export interface HistoryPage {
  limit: number;
  /** The id of the last row of the previous page (UUIDv7: newest first means ids below it). */
  before_id: string | null;
}

export interface RunRow {
  id: string;
  run_date: string;
  as_of: Date;
  trigger: string;
  status: string;
  summary: unknown;
  created_at: Date;
  finished_at: Date | null;
}

export async function selectRunsNewestFirst(
  db: Queryable,
  tenant_id: string,
  page: HistoryPage,
): Promise<RunRow[]> {
  return db.query<RunRow & Record<string, unknown>>(
    `SELECT id::text, to_char(run_date, 'YYYY-MM-DD') AS run_date, as_of, trigger, status, summary,
            created_at, finished_at
       FROM settlement_runs
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid)
      ORDER BY id DESC LIMIT $3`,
    [tenant_id, page.before_id, page.limit],
  );
}

export interface BillImportRow {
  id: string;
  provider: string;
  file_sha256: string;
  rows_total: string;
  rows_parsed: string;
  report: unknown;
  created_at: Date;
}

export async function selectBillImportsNewestFirst(
  db: Queryable,
  tenant_id: string,
  page: HistoryPage,
): Promise<BillImportRow[]> {
  return db.query<BillImportRow & Record<string, unknown>>(
    `SELECT id::text, provider, file_sha256, rows_total::text, rows_parsed::text, report, created_at
       FROM bill_imports
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid)
      ORDER BY id DESC LIMIT $3`,
    [tenant_id, page.before_id, page.limit],
  );
}

/** Payouts in id order after `after_id`, filtered; `limit` rows. */
export function selectPayoutPage(
  db: Queryable,
  tenant_id: string,
  filter: {
    party_id: string | null;
    state: string | null;
    from: string | null;
    to: string | null;
    after_id: string | null;
    limit: number;
  },
): Promise<PayoutRow[]> {
  return db.query<PayoutRow & Record<string, unknown>>(
    `SELECT ${payout_columns} FROM payouts
      WHERE tenant_id = $1 AND ($2::text IS NULL OR party_id = $2) AND ($3::text IS NULL OR state = $3)
        AND ($4::date IS NULL OR run_date >= $4::date) AND ($5::date IS NULL OR run_date <= $5::date)
        AND ($6::uuid IS NULL OR id > $6::uuid)
      ORDER BY id LIMIT $7`,
    [tenant_id, filter.party_id, filter.state, filter.from, filter.to, filter.after_id, filter.limit],
  );
}

/** The payout a provider's reference names, with its state; undefined when there is none. */
export async function selectPayoutByReference(
  tx: Queryable,
  tenant_id: string,
  reference: string,
): Promise<{ id: string; state: string } | undefined> {
  const [row] = await tx.query<{ id: string; state: string } & Record<string, unknown>>(
    "SELECT id::text, state FROM payouts WHERE tenant_id = $1 AND reference = $2",
    [tenant_id, reference],
  );
  return row;
}

/** Whether the scheduler has already finished a run for this date. */
export async function scheduledRunFinished(
  db: Queryable,
  tenant_id: string,
  run_date: string,
): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM settlement_runs
      WHERE tenant_id = $1 AND run_date = $2::date AND trigger = 'scheduler' AND status = 'finished' LIMIT 1`,
    [tenant_id, run_date],
  );
  return rows.length > 0;
}
