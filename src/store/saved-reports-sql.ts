import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The paged reads of the `saved_reports` and `report_runs` tables (decisions §29).
// Their writes and single-row reads are still in service/reports/saved.ts (see
// layering.test.ts). Run the saved reports' read on a scoped handle (store/scoped.ts).

/** The saved reports' columns, as service/reports/saved.ts reads them. */
export const saved_report_columns =
  "id::text, name, owner, party_id, shared, definition, schedule, schedule_format, next_run_at, created_at";

/** Shared reports in the handle's scope and the actor's own, newest first, before the cursor's (created_at, id). */
export function selectSavedReports<Row>(
  tx: Queryable,
  tenant_id: string,
  filter: { actor: string | null; before: readonly [Date, string] | null; limit: number },
): Promise<Row[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return tx.query<Row & Record<string, unknown>>(
    `SELECT ${saved_report_columns} FROM saved_reports
      WHERE tenant_id = $1 AND ($2::text IS NULL OR shared OR owner = $2)
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $5`,
    [tenant_id, filter.actor, filter.before?.[0] ?? null, filter.before?.[1] ?? null, filter.limit],
  );
}

export interface ReportRunRow {
  id: string;
  period_from: Date;
  period_to: Date;
  format: string;
  content_type: string;
  sha256: string;
  created_at: Date;
}

/** A saved report's runs, latest period first, before the cursor's (period_from, id). */
export function selectReportRuns(
  db: Queryable,
  tenant_id: string,
  report_id: string,
  filter: { before: readonly [Date, string] | null; limit: number },
): Promise<ReportRunRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return db.query<ReportRunRow & Record<string, unknown>>(
    `SELECT id::text, period_from, period_to, format, content_type, sha256, created_at FROM report_runs
      WHERE tenant_id = $1 AND report_id = $2::uuid
        AND ($3::timestamptz IS NULL OR (period_from, id) < ($3::timestamptz, $4::uuid))
      ORDER BY period_from DESC, id DESC LIMIT $5`,
    [tenant_id, report_id, filter.before?.[0] ?? null, filter.before?.[1] ?? null, filter.limit],
  );
}
