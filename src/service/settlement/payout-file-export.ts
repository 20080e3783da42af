import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import {
  type PayoutFileRow,
  payoutFileCsv,
  payoutFileJson,
  sha256Hex,
} from "../../core/settlement/payout-file.ts";
import type { Queryable } from "../../store/database.ts";

export interface PayoutFile {
  run_id: string;
  run_date: string;
  csv: string;
  json: Record<string, unknown>;
  csv_sha256: string;
}

/**
 * The payout file of a run: every transfer of the run's day (including those
 * a crashed earlier run of the same day made), in reference order. Full
 * account references: only platform finance may fetch it.
 */
export async function payoutFileOfRun(
  db: Queryable,
  tenant_id: string,
  run_id: string,
  now: Date,
): Promise<PayoutFile> {
  const [run] = isUuid(run_id)
    ? await db.query<{ run_date: string } & Record<string, unknown>>(
        "SELECT to_char(run_date, 'YYYY-MM-DD') AS run_date FROM settlement_runs WHERE tenant_id = $1 AND id = $2",
        [tenant_id, run_id],
      )
    : [];
  if (run === undefined)
    throw new DomainError("settlement_run_not_found", `no settlement run ${run_id}`, "id");
  const rows = await db.query<PayoutFileRow & Record<string, unknown>>(
    `SELECT p.id::text AS payout_id, p.reference, p.party_id, pa.name AS party_name, p.payout_account_ref,
            p.currency::text AS currency, p.amount_minor, p.period_start, p.period_end
       FROM payouts p JOIN parties pa ON pa.tenant_id = p.tenant_id AND pa.id = p.party_id
      WHERE p.tenant_id = $1 AND p.run_date = $2::date AND p.state IN ('in_transit', 'paid_out', 'failed')
      ORDER BY p.reference`,
    [tenant_id, run.run_date],
  );
  const csv = payoutFileCsv(rows);
  return {
    run_id,
    run_date: run.run_date,
    csv,
    csv_sha256: sha256Hex(csv),
    json: payoutFileJson({ tenant_id, run_date: run.run_date, generated_at: now }, rows),
  };
}
