import type { BillReport } from "../../core/reconcile/parse-report.ts";

// The transparency-log record of a reconciliation (kind `reconciliation`):
// which file, what it held, whether its own summary agreed, and how many items
// ended in each status. Rebuilt from the bill_imports row it was made from.
export function reconciliationRecord(input: {
  id: string;
  created_at: Date;
  report: BillReport;
  counts: Record<string, number>;
}): Record<string, unknown> {
  return {
    counts: input.counts,
    created_at: input.created_at.toISOString(),
    encoding: input.report.encoding,
    file_sha256: input.report.file_sha256,
    id: input.id,
    provider: input.report.provider,
    rows_parsed: input.report.rows_parsed,
    rows_rejected: input.report.rows_total - input.report.rows_parsed,
    rows_total: input.report.rows_total,
    summary_agrees: input.report.summary.agrees,
    summary_present: input.report.summary.present,
    totals: input.report.totals,
    type: "reconciliation",
  };
}
