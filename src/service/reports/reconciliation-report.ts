import { DomainError } from "../../core/errors.ts";
import {
  reconciliation_report_exceptions_max,
  reconciliation_report_imports_max,
} from "../../core/limits.ts";
import type { Cell, ReportDocument, ReportTable } from "../../core/reports/document.ts";
import type { Period } from "../../core/reports/period.ts";
import type { Queryable } from "../../store/database.ts";
import {
  type ReportExceptionRow,
  type ReportImportRow,
  selectExceptionsBetween,
  selectImportsBetween,
} from "../../store/reconciliation-report-sql.ts";

// The reconciliation report: the bill imports of a period, each with its
// counts per match status, then every exception (a row that is not
// `matched`) with the bill's amount as the provider wrote it (exact decimal
// text) beside the ledger's amount in minor units. Platform roles only.

export const reconciliation_statuses = [
  "matched",
  "missing_in_ledger",
  "missing_in_bill",
  "amount_mismatch",
  "fee_mismatch",
  "duplicate",
] as const;

type ImportRow = ReportImportRow;
type ExceptionRow = ReportExceptionRow;

export async function reconciliationReport(
  tx: Queryable,
  tenant_id: string,
  period: Period,
): Promise<Pick<ReportDocument, "tables" | "json">> {
  const imports = await selectImportsBetween(tx, tenant_id, period, reconciliation_report_imports_max + 1);
  const exceptions = await selectExceptionsBetween(
    tx,
    tenant_id,
    period,
    reconciliation_report_exceptions_max + 1,
  );
  if (
    imports.length > reconciliation_report_imports_max ||
    exceptions.length > reconciliation_report_exceptions_max
  )
    throw new DomainError(
      "report_too_large",
      `the period holds more than ${reconciliation_report_imports_max} imports or ${reconciliation_report_exceptions_max} exceptions; ask for a shorter period`,
      "to",
    );
  return buildReconciliationReport(imports, exceptions);
}

/** Pure: the report's tables and JSON from what was read. */
export function buildReconciliationReport(
  imports: readonly ImportRow[],
  exceptions: readonly ExceptionRow[],
): Pick<ReportDocument, "tables" | "json"> {
  const count = (row: ImportRow, status: string) => BigInt(row.counts[status] ?? 0);
  const import_items = imports.map((row) => ({
    import_id: row.id,
    imported_at: row.created_at.toISOString(),
    provider: row.provider,
    file_sha256: row.file_sha256,
    rows_total: BigInt(row.rows_total),
    counts: Object.fromEntries(reconciliation_statuses.map((status) => [status, count(row, status)])),
  }));
  const currencies = [...new Set(exceptions.map((row) => row.currency ?? ""))].sort();
  const tables: ReportTable[] = [
    {
      title: "reconciliation_imports",
      currency: "",
      columns: [
        { key: "import_id", label: "import_id", type: "text" },
        { key: "imported_at", label: "imported_at", type: "date" },
        { key: "provider", label: "provider", type: "text" },
        { key: "rows_total", label: "rows_total", type: "count" },
        ...reconciliation_statuses.map((status) => ({ key: status, label: status, type: "count" as const })),
        { key: "file_sha256", label: "file_sha256", type: "text" },
      ],
      rows: import_items.map((item): Cell[] => [
        item.import_id,
        item.imported_at,
        item.provider,
        item.rows_total,
        ...reconciliation_statuses.map((status) => item.counts[status]!),
        item.file_sha256,
      ]),
      totals: ["rows_total", ...reconciliation_statuses],
    },
    ...currencies.map(
      (currency): ReportTable => ({
        title: "reconciliation_exceptions",
        currency,
        columns: [
          { key: "import_id", label: "import_id", type: "text" },
          { key: "status", label: "status", type: "text", translate: true },
          { key: "kind", label: "kind", type: "text" },
          { key: "provider_reference", label: "reference", type: "text" },
          { key: "order_id", label: "order", type: "text" },
          { key: "bill_amount", label: "bill_amount", type: "text" },
          { key: "ledger_amount_minor", label: "ledger_amount", type: currency === "" ? "count" : "money" },
        ],
        rows: exceptions
          .filter((row) => (row.currency ?? "") === currency)
          .map((row): Cell[] => [
            row.import_id,
            row.status,
            row.kind,
            row.provider_reference,
            row.order_id,
            row.bill_amount,
            row.ledger_amount_minor === null ? null : BigInt(row.ledger_amount_minor),
          ]),
      }),
    ),
  ];
  const json = {
    imports: import_items,
    exceptions: exceptions.map((row) => ({
      ...row,
      ledger_amount_minor: row.ledger_amount_minor === null ? null : BigInt(row.ledger_amount_minor),
    })),
  };
  return { tables, json };
}
