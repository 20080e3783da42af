import type { Queryable } from "./database.ts";

// The reads of the reconciliation report (service/reports/reconciliation-report.ts):
// the bill imports of a period with their counts per status, and their exceptions.

export interface ReportImportRow {
  id: string;
  provider: string;
  file_sha256: string;
  rows_total: bigint;
  created_at: Date;
  counts: Record<string, bigint | string>;
}

/** Bill imports made in [from, to), oldest first, at most `limit`, each with its items counted per status. */
export function selectImportsBetween(
  tx: Queryable,
  tenant_id: string,
  period: { from: Date; to: Date },
  limit: number,
): Promise<ReportImportRow[]> {
  return tx.query<ReportImportRow & Record<string, unknown>>(
    `SELECT i.id::text AS id, i.provider, i.file_sha256, i.rows_total, i.created_at,
            coalesce((SELECT jsonb_object_agg(status, n) FROM (
               SELECT status, count(*)::text AS n FROM reconciliation_items r
                WHERE r.tenant_id = i.tenant_id AND r.import_id = i.id GROUP BY status) c), '{}'::jsonb) AS counts
       FROM bill_imports i WHERE i.tenant_id = $1 AND i.created_at >= $2 AND i.created_at < $3
      ORDER BY i.created_at, i.id LIMIT $4`,
    [tenant_id, period.from, period.to, limit],
  );
}

export interface ReportExceptionRow {
  import_id: string;
  status: string;
  kind: string;
  provider_reference: string | null;
  order_id: string | null;
  currency: string | null;
  bill_amount: string | null;
  ledger_amount_minor: bigint | null;
}

/** The items that are not matched of the imports made in [from, to), in import then item order, at most `limit`. */
export function selectExceptionsBetween(
  tx: Queryable,
  tenant_id: string,
  period: { from: Date; to: Date },
  limit: number,
): Promise<ReportExceptionRow[]> {
  return tx.query<ReportExceptionRow & Record<string, unknown>>(
    `SELECT r.import_id::text AS import_id, r.status, r.kind, r.provider_reference, r.order_id, r.currency,
            r.bill_amount, r.ledger_amount_minor
       FROM reconciliation_items r JOIN bill_imports i ON i.tenant_id = r.tenant_id AND i.id = r.import_id
      WHERE r.tenant_id = $1 AND i.created_at >= $2 AND i.created_at < $3 AND r.status <> 'matched'
      ORDER BY i.created_at, r.import_id, r.seq LIMIT $4`,
    [tenant_id, period.from, period.to, limit],
  );
}
