import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `saved_reports` and `report_runs` tables' queries
// (decisions §29). Run a caller's reads of saved reports on a scoped handle
// (store/scoped.ts).

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

export async function insertSavedReport(
  db: Queryable,
  tenant_id: string,
  report: {
    id: string;
    name: string;
    owner: string;
    party_id: string | null;
    shared: boolean;
    definition: unknown;
    schedule: string | null;
    schedule_format: string | null;
    next_run_at: Date | null;
  },
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO saved_reports (tenant_id, id, name, owner, party_id, shared, definition, schedule, schedule_format, next_run_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10, $11)`,
    [
      tenant_id,
      report.id,
      report.name,
      report.owner,
      report.party_id,
      report.shared,
      JSON.stringify(report.definition),
      report.schedule,
      report.schedule_format,
      report.next_run_at,
      now,
    ],
  );
}

/** A saved report the actor may see (shared, or its own; any with a null actor); undefined otherwise. */
export async function selectSavedReport<Row>(
  tx: Queryable,
  tenant_id: string,
  id: string,
  actor: string | null,
): Promise<Row | undefined> {
  const [row] = await tx.query<Row & Record<string, unknown>>(
    `SELECT ${saved_report_columns} FROM saved_reports WHERE tenant_id = $1 AND id = $2::uuid AND ($3::text IS NULL OR shared OR owner = $3)`,
    [tenant_id, id, actor],
  );
  return row;
}

/** The saved report due first across tenants, locked and skipped by other runners (FOR UPDATE SKIP LOCKED). */
export async function claimDueSavedReport<Row>(
  tx: Queryable,
  now: Date,
): Promise<(Row & { tenant_id: string }) | undefined> {
  if (tx.sharded === true) return claimDueOnShards<Row>(tx, now);
  const [row] = await tx.query<Row & { tenant_id: string } & Record<string, unknown>>(
    `SELECT tenant_id, ${saved_report_columns} FROM saved_reports
      WHERE schedule IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now],
  );
  return row;
}

/** Due candidates looked at per claim on Citus before giving up the round. */
const due_candidates_max = 16;

/**
 * Citus (issue 20) locks rows only in a query routed to one shard: the due
 * reports are found across shards without a lock, then claimed one at a time
 * with FOR UPDATE SKIP LOCKED on the report's own shard, re-checking that it
 * is still due. The first one claimed wins; one another runner holds is skipped.
 */
async function claimDueOnShards<Row>(
  tx: Queryable,
  now: Date,
): Promise<(Row & { tenant_id: string }) | undefined> {
  const candidates = await tx.query<{ tenant_id: string; id: string }>(
    `SELECT tenant_id, id::text AS id FROM saved_reports
      WHERE schedule IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2`,
    [now, due_candidates_max],
  );
  for (const candidate of candidates) {
    const [row] = await tx.query<Row & { tenant_id: string } & Record<string, unknown>>(
      `SELECT tenant_id, ${saved_report_columns} FROM saved_reports
        WHERE tenant_id = $1 AND id = $2::uuid AND schedule IS NOT NULL AND next_run_at <= $3
          FOR UPDATE SKIP LOCKED`,
      [candidate.tenant_id, candidate.id, now],
    );
    if (row !== undefined) return row;
  }
  return undefined;
}

export async function updateNextRun(
  tx: Queryable,
  tenant_id: string,
  id: string,
  next_run_at: Date,
): Promise<void> {
  await tx.query("UPDATE saved_reports SET next_run_at = $3 WHERE tenant_id = $1 AND id = $2::uuid", [
    tenant_id,
    id,
    next_run_at,
  ]);
}

/** Stores a run's file; false when the same period and format were stored already. */
export async function insertReportRun(
  tx: Queryable,
  tenant_id: string,
  run: {
    id: string;
    report_id: string;
    period_from: Date;
    period_to: Date;
    format: string;
    content_type: string;
    body: Buffer;
    sha256: string;
  },
  now: Date,
): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO report_runs (tenant_id, id, report_id, period_from, period_to, format, content_type, body, sha256, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex'), $9, $10)
     ON CONFLICT (tenant_id, report_id, period_from, period_to, format) DO NOTHING RETURNING 1`,
    [
      tenant_id,
      run.id,
      run.report_id,
      run.period_from,
      run.period_to,
      run.format,
      run.content_type,
      run.body.toString("hex"),
      run.sha256,
      now,
    ],
  );
  return inserted.length > 0;
}

export async function selectReportRunFile(
  db: Queryable,
  tenant_id: string,
  report_id: string,
  run_id: string,
): Promise<{ content_type: string; body: Uint8Array; format: string } | undefined> {
  const [row] = await db.query<{ content_type: string; body: Uint8Array; format: string }>(
    "SELECT content_type, body, format FROM report_runs WHERE tenant_id = $1 AND report_id = $2::uuid AND id = $3::uuid",
    [tenant_id, report_id, run_id],
  );
  return row;
}
