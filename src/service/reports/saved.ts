import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { buffer } from "node:stream/consumers";
import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { toJsonText } from "../../core/json.ts";
import { due_reports_per_tick_max, saved_reports_per_page_max } from "../../core/limits.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import {
  type CustomDefinition,
  datasetAllowed,
  nextRunAfter,
  parseDefinition,
  resolvePeriod,
} from "../../core/reports/custom.ts";
import type { ReportDocument } from "../../core/reports/document.ts";
import type { ReportLang } from "../../core/reports/format.ts";
import { dayOf, type Period } from "../../core/reports/period.ts";
import { inTransaction } from "../../store/retry.ts";
import {
  claimDueSavedReport,
  insertReportRun,
  insertSavedReport,
  type ReportRunRow,
  selectReportRunFile,
  selectReportRuns,
  selectSavedReport,
  selectSavedReports,
  updateNextRun,
} from "../../store/saved-reports-sql.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ServiceContext } from "../context.ts";
import { type EventInput, enqueueEvents } from "../events/event-enqueue.ts";
import { runCustom } from "./custom-run.ts";
import { content_types, type ReportFormat, renderReport } from "./render/index.ts";

// Saved custom reports: stored definitions, private to their owner or shared
// within the tenant (a party's shared report stays within its party and the
// platform). Whoever runs one runs it under their own scope, so sharing never
// widens what anyone sees. A schedule (daily, weekly, monthly) makes the
// scheduler produce the file for the period just ended and record it.

export const schedules = ["daily", "weekly", "monthly"] as const;
export type Schedule = (typeof schedules)[number];

export interface SavedReportInput {
  name?: unknown;
  definition?: unknown;
  shared?: unknown;
  schedule?: unknown;
  schedule_format?: unknown;
}

export interface SavedReport {
  id: string;
  name: string;
  owner: string;
  party_id: string | null;
  shared: boolean;
  definition: CustomDefinition;
  schedule: Schedule | null;
  schedule_format: ReportFormat | null;
  next_run_at: Date | null;
  created_at: Date;
}

export interface Caller {
  scope: ReadScope;
  /** Who runs it; null for the operator's CLI, which sees every saved report of its scope. */
  actor: string | null;
}

function invalid(message: string, field: string): DomainError {
  return new DomainError("report_definition_invalid", message, field);
}

export async function createSavedReport(
  ctx: ServiceContext,
  caller: Caller,
  input: SavedReportInput,
): Promise<SavedReport> {
  if (typeof input.name !== "string" || input.name.length < 1 || input.name.length > 200)
    throw invalid("name must be 1 to 200 characters", "name");
  const definition = parseDefinition(input.definition);
  if (!datasetAllowed(definition.dataset, caller.scope.party_id))
    throw new DomainError(
      "forbidden",
      `dataset ${definition.dataset} is for platform roles and auditors`,
      "definition.dataset",
    );
  if (input.shared !== undefined && typeof input.shared !== "boolean")
    throw invalid("shared must be true or false", "shared");
  const schedule = input.schedule ?? null;
  if (schedule !== null && !(schedules as readonly unknown[]).includes(schedule))
    throw invalid(`schedule must be one of ${schedules.join(", ")}`, "schedule");
  const schedule_format = input.schedule_format ?? (schedule === null ? null : "csv");
  if (schedule_format !== null && !(Object.keys(content_types) as unknown[]).includes(schedule_format))
    throw invalid("schedule_format must be json, csv, xlsx or pdf", "schedule_format");
  const now = ctx.now();
  const report: SavedReport = {
    id: newId(),
    name: input.name,
    owner: caller.actor ?? "cli",
    party_id: caller.scope.party_id,
    shared: input.shared === true,
    definition,
    schedule: schedule as Schedule | null,
    schedule_format: schedule_format as ReportFormat | null,
    next_run_at: schedule === null ? null : nextRunAfter(schedule as Schedule, now),
    created_at: now,
  };
  await insertSavedReport(
    ctx.db,
    caller.scope.tenant_id,
    {
      id: report.id,
      name: report.name,
      owner: report.owner,
      party_id: report.party_id,
      shared: report.shared,
      definition,
      schedule: report.schedule,
      schedule_format: report.schedule_format,
      next_run_at: report.next_run_at,
    },
    now,
  );
  return report;
}

/** The saved reports the caller may see (shared ones in its scope, and its own), newest first, one cursor page. */
export async function listSavedReports(
  ctx: ServiceContext,
  caller: Caller,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<SavedReport>> {
  const limit = pageLimit(options.limit, saved_reports_per_page_max, saved_reports_per_page_max);
  const before =
    options.cursor === undefined ? null : decodeCursor("saved_reports", options.cursor, ["instant", "uuid"]);
  const rows = await withReadScope(ctx.db, caller.scope, (tx) =>
    selectSavedReports<SavedReport>(tx, caller.scope.tenant_id, {
      actor: caller.actor,
      before,
      limit: limit + 1,
    }),
  );
  return pageOf(rows, limit, "saved_reports", (row) => [row.created_at, row.id]);
}

export async function getSavedReport(ctx: ServiceContext, caller: Caller, id: string): Promise<SavedReport> {
  const row = /^[0-9a-f-]{36}$/.test(id)
    ? await withReadScope(ctx.db, caller.scope, (tx) =>
        selectSavedReport<SavedReport>(tx, caller.scope.tenant_id, id, caller.actor),
      )
    : undefined;
  if (row === undefined)
    throw new DomainError("saved_report_not_found", `no saved report ${JSON.stringify(id)}`, "id");
  return row;
}

export async function runSavedReport(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  options: { lang: ReportLang; period?: Period | undefined },
): Promise<ReportDocument> {
  const saved = await getSavedReport(ctx, caller, id);
  return runCustom(ctx, caller.scope, parseDefinition(saved.definition), { ...options, title: saved.name });
}

/** The file of a report in a format, in memory (scheduled runs are stored whole). */
export async function renderToBuffer(document: ReportDocument, format: ReportFormat): Promise<Buffer> {
  if (format === "json") return Buffer.from(toJsonText(document.json));
  const stream = new PassThrough();
  const collected = buffer(stream);
  await renderReport(document, format, stream);
  return collected;
}

/**
 * Runs every scheduled report that is due, each under its owner's scope, for
 * the period just ended, and records the file. A run is claimed with SKIP
 * LOCKED and its next time advanced in one short transaction, so two
 * processes never produce the same period twice (the unique key would refuse
 * it anyway); the file is then made outside that transaction.
 */
export async function runDueReports(ctx: ServiceContext): Promise<number> {
  const now = ctx.now();
  let produced = 0;
  for (let round = 0; round < due_reports_per_tick_max; round++) {
    const due = await inTransaction(ctx.db, async (tx) => {
      const row = await claimDueSavedReport<SavedReport>(tx, now);
      if (row === undefined) return undefined;
      await updateNextRun(tx, row.tenant_id, row.id, nextRunAfter(row.schedule!, row.next_run_at!));
      return row;
    });
    if (due === undefined) break;
    await produceRun(ctx, due, now);
    produced += 1;
  }
  return produced;
}

async function produceRun(
  ctx: ServiceContext,
  due: SavedReport & { tenant_id: string },
  now: Date,
): Promise<void> {
  const at = due.next_run_at!;
  const scope: ReadScope = { tenant_id: due.tenant_id, party_id: due.party_id };
  const definition = parseDefinition(due.definition);
  const period = resolvePeriod(definition, at);
  const document = await runCustom({ ...ctx, now: () => at }, scope, definition, {
    lang: "en",
    period,
    title: due.name,
  });
  const format = due.schedule_format ?? "csv";
  const body = await renderToBuffer(document, format);
  const run_id = newId();
  const sha256 = createHash("sha256").update(body).digest("hex");
  // The file and its report.ready event commit together: a run recorded is a run told, once.
  await inTransaction(ctx.db, async (tx) => {
    const inserted = await insertReportRun(
      tx,
      due.tenant_id,
      {
        id: run_id,
        report_id: due.id,
        period_from: period.from,
        period_to: period.to,
        format,
        content_type: content_types[format],
        body,
        sha256,
      },
      now,
    );
    if (!inserted) return;
    await enqueueEvents(tx, due.tenant_id, [reportReadyEvent(due, { run_id, period, format, sha256 })], now);
  });
}

/** report.ready, addressed to the person who scheduled the report (an API key has no inbox: then the type's roles). */
export function reportReadyEvent(
  report: SavedReport,
  run: { run_id: string; period: Period; format: ReportFormat; sha256: string },
): EventInput {
  const owner_user = /^user:(.+)$/.exec(report.owner)?.[1];
  return {
    type: "report.ready",
    party_ids: report.party_id === null ? [] : [report.party_id],
    payload: {
      report_id: report.id,
      report_name: report.name,
      run_id: run.run_id,
      period_from: dayOf(run.period.from),
      period_to: dayOf(run.period.to),
      format: run.format,
      sha256: run.sha256,
      download: `/v1/reports/saved/${report.id}/runs/${run.run_id}`,
      ...(owner_user === undefined ? {} : { user_ids: [owner_user] }),
    },
  };
}

export type ReportRun = ReportRunRow;

/** The files a schedule produced, latest period first, one cursor page. */
export async function listReportRuns(
  ctx: ServiceContext,
  caller: Caller,
  report_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<ReportRun>> {
  const limit = pageLimit(options.limit, saved_reports_per_page_max, saved_reports_per_page_max);
  const before =
    options.cursor === undefined ? null : decodeCursor("report_runs", options.cursor, ["instant", "uuid"]);
  await getSavedReport(ctx, caller, report_id);
  const rows = await selectReportRuns(ctx.db, caller.scope.tenant_id, report_id, {
    before,
    limit: limit + 1,
  });
  return pageOf(rows, limit, "report_runs", (row) => [row.period_from, row.id]);
}

export async function reportRunFile(
  ctx: ServiceContext,
  caller: Caller,
  report_id: string,
  run_id: string,
): Promise<{ content_type: string; body: Buffer; format: string }> {
  await getSavedReport(ctx, caller, report_id);
  const row = /^[0-9a-f-]{36}$/.test(run_id)
    ? await selectReportRunFile(ctx.db, caller.scope.tenant_id, report_id, run_id)
    : undefined;
  if (row === undefined)
    throw new DomainError("saved_report_not_found", `no run ${JSON.stringify(run_id)}`, "run_id");
  return { content_type: row.content_type, body: Buffer.from(row.body), format: row.format };
}
