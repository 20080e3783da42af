import { payoutRecord } from "../../core/settlement/payout-record.ts";
import type { Queryable } from "../../store/database.ts";
import { selectBillImportsById } from "../../store/reconciliation-sql.ts";
import { type PayoutRow, selectPayoutEntries, selectPayouts } from "../../store/settlement-sql.ts";
import { reconciliationRecord } from "../reconcile/reconciliation-record.ts";

// Rebuilding the settlement and reconciliation records from their rows, with
// the builders their writers hashed (src/service/tlog/record-rebuild.ts dispatches here).

export async function rebuildPayoutRecords(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, unknown>> {
  const payouts: PayoutRow[] = await selectPayouts(tx, tenant_id, ids);
  const entries = await selectPayoutEntries(
    tx,
    tenant_id,
    payouts.map((payout) => payout.id),
  );
  const records = new Map<string, unknown>();
  for (const payout of payouts)
    records.set(
      payout.id,
      payoutRecord({
        ...payout,
        eligible_minor: BigInt(payout.eligible_minor),
        netted_minor: BigInt(payout.netted_minor),
        amount_minor: BigInt(payout.amount_minor),
        minimum_payout_minor: BigInt(payout.minimum_payout_minor),
        carried_over: payout.state === "carried_over",
        entries: entries.get(payout.id) ?? [],
      }),
    );
  return records;
}

export async function rebuildReconciliationRecords(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<Map<string, unknown>> {
  const rows = await selectBillImportsById(tx, tenant_id, ids);
  const records = new Map<string, unknown>();
  for (const row of rows) {
    const stored = (typeof row.report === "string" ? JSON.parse(row.report) : row.report) as {
      report: Parameters<typeof reconciliationRecord>[0]["report"];
      counts: Record<string, number>;
    };
    records.set(
      row.id,
      reconciliationRecord({
        id: row.id,
        created_at: row.created_at,
        report: stored.report,
        counts: stored.counts,
      }),
    );
  }
  return records;
}
