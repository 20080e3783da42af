import type { PayoutFileRow } from "../core/settlement/payout-file.ts";
import type { Queryable } from "./database.ts";

// SQL of settlement runs and of the reads about them (migration 040):
// settlement-run.ts, payout-file-export.ts and settlement-progress.ts.

/**
 * The settlement profile of party `alias` in force at `cutoff_param` (a
 * timestamptz): the newest party version written before it, else the party's
 * own column (a party never changed, or created after the cut-off).
 */
export function profileAsOfSql(alias: string, cutoff_param: string): string {
  return `COALESCE((SELECT v.settlement FROM party_versions v
     WHERE v.tenant_id = ${alias}.tenant_id AND v.party_id = ${alias}.id AND v.created_at < ${cutoff_param}
     ORDER BY v.version DESC LIMIT 1), ${alias}.settlement)`;
}

export interface CandidateRow {
  party_id: string;
  /** The party's available account in `currency`. */
  account_id: string;
  kind: string;
  currency: string;
  settlement: unknown;
  [key: string]: unknown;
}

/**
 * Active parties of settleable kinds, with an available account, by party and
 * currency; `named` (when not null) narrows to those parties. The profile is
 * the one in force at `cutoff` (the start of the run's day): a change takes
 * effect from the next cycle. The status is read as it is now: a suspension
 * stops payouts at once.
 */
export function selectSettlementCandidates(
  db: Queryable,
  tenant_id: string,
  filter: {
    unsettled_kinds: readonly string[];
    named: readonly string[] | null;
    cutoff: Date;
    limit: number;
  },
): Promise<CandidateRow[]> {
  return db.query<CandidateRow>(
    `SELECT p.id AS party_id, a.id::text AS account_id, p.kind, a.currency::text AS currency, ${profileAsOfSql("p", "$5::timestamptz")} AS settlement
       FROM parties p JOIN accounts a ON a.tenant_id = p.tenant_id AND a.party_id = p.id AND a.purpose = 'available'
      WHERE p.tenant_id = $1 AND p.status = 'active' AND p.kind <> ALL($2::text[])
        AND ($3::text[] IS NULL OR p.id = ANY($3::text[]))
      ORDER BY p.id, a.currency LIMIT $4`,
    [tenant_id, [...filter.unsettled_kinds], filter.named, filter.limit, filter.cutoff],
  );
}

export async function insertSettlementRun(
  db: Queryable,
  tenant_id: string,
  run: { id: string; run_date: string; as_of: Date; trigger: string; created_at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO settlement_runs (tenant_id, id, run_date, as_of, trigger, status, created_at)
     VALUES ($1, $2, $3::date, $4, $5, 'running', $6)`,
    [tenant_id, run.id, run.run_date, run.as_of, run.trigger, run.created_at],
  );
}

export async function finishSettlementRun(
  tx: Queryable,
  tenant_id: string,
  run_id: string,
  summary: Record<string, unknown>,
  finished_at: Date,
): Promise<void> {
  await tx.query(
    `UPDATE settlement_runs SET status = 'finished', summary = $3::text::jsonb, finished_at = $4
      WHERE tenant_id = $1 AND id = $2`,
    [tenant_id, run_id, JSON.stringify(summary), finished_at],
  );
}

/** The run's date, or undefined when there is no such run. */
export async function selectRunDate(
  db: Queryable,
  tenant_id: string,
  run_id: string,
): Promise<string | undefined> {
  const [run] = await db.query<{ run_date: string } & Record<string, unknown>>(
    "SELECT to_char(run_date, 'YYYY-MM-DD') AS run_date FROM settlement_runs WHERE tenant_id = $1 AND id = $2",
    [tenant_id, run_id],
  );
  return run?.run_date;
}

/** Every transfer of a run date (in transit, paid out or failed), in reference order. */
export function selectPayoutFileRows(
  db: Queryable,
  tenant_id: string,
  run_date: string,
): Promise<(PayoutFileRow & Record<string, unknown>)[]> {
  return db.query<PayoutFileRow & Record<string, unknown>>(
    `SELECT p.id::text AS payout_id, p.reference, p.party_id, pa.name AS party_name, p.payout_account_ref,
            p.currency::text AS currency, p.amount_minor, p.period_start, p.period_end
       FROM payouts p JOIN parties pa ON pa.tenant_id = p.tenant_id AND pa.id = p.party_id
      WHERE p.tenant_id = $1 AND p.run_date = $2::date AND p.state IN ('in_transit', 'paid_out', 'failed')
      ORDER BY p.reference`,
    [tenant_id, run_date],
  );
}

export interface PayoutLink extends Record<string, unknown> {
  party_id: string;
  payout_id: string;
  reference: string;
  state: "in_transit" | "paid_out";
  created_at: Date;
  resolved_at: Date | null;
}

/** For each party (or only `party_id`), the newest live payout covering an entry of the order. */
export function selectOrderPayoutLinks(
  db: Queryable,
  tenant_id: string,
  order_id: string,
  party_id: string | null,
): Promise<PayoutLink[]> {
  return db.query<PayoutLink>(
    `SELECT DISTINCT ON (p.party_id) p.party_id, p.id::text AS payout_id, p.reference, p.state, p.created_at, p.resolved_at
       FROM payout_entries pe JOIN payouts p ON p.tenant_id = pe.tenant_id AND p.id = pe.payout_id
      WHERE pe.tenant_id = $1 AND pe.order_id = $2 AND p.state IN ('in_transit', 'paid_out')
        AND ($3::text IS NULL OR p.party_id = $3)
      ORDER BY p.party_id, p.id DESC`,
    [tenant_id, order_id, party_id],
  );
}

export async function selectPartySettlementProfile(
  db: Queryable,
  tenant_id: string,
  party_id: string,
): Promise<{ settlement: unknown; status: string } | undefined> {
  const [party] = await db.query<{ settlement: unknown; status: string } & Record<string, unknown>>(
    "SELECT settlement, status FROM parties WHERE tenant_id = $1 AND id = $2",
    [tenant_id, party_id],
  );
  return party;
}

export function selectPayoutTotalsByState(
  db: Queryable,
  tenant_id: string,
  party_id: string,
): Promise<
  ({ currency: string; state: string; amount_minor: bigint; payouts: bigint } & Record<string, unknown>)[]
> {
  return db.query(
    `SELECT currency::text AS currency, state, coalesce(sum(amount_minor), 0)::int8 AS amount_minor, count(*)::int8 AS payouts
       FROM payouts WHERE tenant_id = $1 AND party_id = $2 GROUP BY currency, state ORDER BY currency, state`,
    [tenant_id, party_id],
  );
}

export interface RecentPayoutRow extends Record<string, unknown> {
  id: string;
  reference: string;
  state: string;
  amount_minor: bigint;
  currency: string;
  created_at: Date;
}

export function selectRecentPayouts(
  db: Queryable,
  tenant_id: string,
  party_id: string,
  limit: number,
): Promise<RecentPayoutRow[]> {
  return db.query<RecentPayoutRow>(
    `SELECT id::text, reference, state, amount_minor, currency::text AS currency, created_at FROM payouts
      WHERE tenant_id = $1 AND party_id = $2 ORDER BY id DESC LIMIT $3`,
    [tenant_id, party_id, limit],
  );
}
