import type { ResultItem } from "../core/reconcile/result-file.ts";
import type { Queryable } from "./database.ts";

// The reads of a reconciliation (tables bill_imports and reconciliation_items)
// that the HTTP routes answer from; the import's own writes are in
// service/reconcile/store.ts. Run under the caller's read scope.

export interface BillImportRow {
  id: string;
  provider: string;
  file_sha256: string;
  /** The stored `{ report, counts }`: jsonb, or its text on a driver that does not parse it. */
  report: unknown;
  created_at: Date;
}

/** One bill import by id; undefined when the tenant has none with that id. */
export async function selectBillImport(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
): Promise<BillImportRow | undefined> {
  const [row] = await tx.query<BillImportRow & Record<string, unknown>>(
    "SELECT id::text, provider, file_sha256, report, created_at FROM bill_imports WHERE tenant_id = $1 AND id = $2",
    [tenant_id, import_id],
  );
  return row;
}

/** An import's items in bill order: of one status, or every exception (not `matched`) when `status` is null. */
export async function selectReconciliationItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  options: { status: string | null; limit: number },
): Promise<Record<string, unknown>[]> {
  return tx.query(
    `SELECT seq, status, bill_line, kind, provider_reference, order_id, refund_id, payout_id::text, currency::text AS currency,
            bill_amount, ledger_amount_minor, bill_fee, ledger_fee_minor
       FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2
        AND (CASE WHEN $3::text IS NULL THEN status <> 'matched' ELSE status = $3 END)
      ORDER BY seq LIMIT $4`,
    [tenant_id, import_id, options.status, options.limit],
  );
}

/** Every item of an import for its result file, in bill order, at most `limit` rows. */
export async function selectResultItems(
  tx: Queryable,
  tenant_id: string,
  import_id: string,
  limit: number,
): Promise<ResultItem[]> {
  const items = await tx.query<ResultItem & Record<string, unknown>>(
    `SELECT seq, status, kind, bill_line, provider_reference, order_id, refund_id, payout_id::text, currency::text AS currency,
            bill_amount, ledger_amount_minor, bill_fee, ledger_fee_minor, match_group, reason
       FROM reconciliation_items WHERE tenant_id = $1 AND import_id = $2 ORDER BY seq LIMIT $3`,
    [tenant_id, import_id, limit],
  );
  return items.map((item) => ({
    ...item,
    seq: Number(item.seq),
    bill_line: item.bill_line === null ? null : Number(item.bill_line),
    ledger_amount_minor: item.ledger_amount_minor === null ? null : BigInt(item.ledger_amount_minor),
    ledger_fee_minor: item.ledger_fee_minor === null ? null : BigInt(item.ledger_fee_minor),
  }));
}
