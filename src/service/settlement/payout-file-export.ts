import { DomainError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { payoutFileCsv, payoutFileJson, sha256Hex } from "../../core/settlement/payout-file.ts";
import type { Queryable } from "../../store/database.ts";
import { selectPayoutFileRows, selectRunDate } from "../../store/settlement-runs-sql.ts";

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
  const run_date = isUuid(run_id) ? await selectRunDate(db, tenant_id, run_id) : undefined;
  if (run_date === undefined)
    throw new DomainError("settlement_run_not_found", `no settlement run ${run_id}`, "id");
  const rows = await selectPayoutFileRows(db, tenant_id, run_date);
  const csv = payoutFileCsv(rows);
  return {
    run_id,
    run_date: run_date,
    csv,
    csv_sha256: sha256Hex(csv),
    json: payoutFileJson({ tenant_id, run_date: run_date, generated_at: now }, rows),
  };
}
