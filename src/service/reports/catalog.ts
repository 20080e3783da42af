import type { ReadScope } from "../../core/auth/scope.ts";
import { isCurrency } from "../../core/currency.ts";
import { DomainError } from "../../core/errors.ts";
import { order_report_days_max, statement_days_max } from "../../core/limits.ts";
import {
  type Cell,
  type ReportDocument,
  type ReportTable,
  type StreamedDocument,
  streamedOf,
} from "../../core/reports/document.ts";
import { isReportLang, type ReportLang } from "../../core/reports/format.ts";
import { dayOf, type Period, parsePeriod } from "../../core/reports/period.ts";
import type { Statement } from "../../core/reports/statement-fold.ts";
import { withReadScope } from "../../store/scoped.ts";
import { selectTenantName } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";
import { assertPartyVisible } from "../parties/party-reads.ts";
import { auditReport } from "./audit-report.ts";
import { signStatement } from "./manifest.ts";
import { orderLegs } from "./order-legs.ts";
import { statementIn } from "./party-statement.ts";
import { reconciliationReport } from "./reconciliation-report.ts";
import { settlementStatus } from "./settlement-status.ts";
import { type ExportOptions, splitDetail, splitDetailTables } from "./split-detail.ts";

// The standard reports by name: what each reads, who may run it, and the
// tables it renders. Party-scoped callers (merchants, suppliers) get their own
// party's view; platform-wide reports are invisible to them (404, as for any
// data of another party).

export const report_names = [
  "statement",
  "platform_revenue",
  "split_detail",
  "settlement_status",
  "audit",
  "reconciliation",
] as const;
export type ReportName = (typeof report_names)[number];
const platform_only: ReadonlySet<ReportName> = new Set(["platform_revenue", "audit", "reconciliation"]);

export interface ReportParams {
  party_id?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  currency?: string | undefined;
  order_id?: string | undefined;
  lang?: string | undefined;
}

export function reportNameOf(value: string): ReportName {
  const name = value.replaceAll("-", "_");
  if (!(report_names as readonly string[]).includes(name))
    throw new DomainError(
      "report_unknown",
      `no report ${JSON.stringify(value)}; reports: ${report_names.join(", ")}`,
      "report",
    );
  return name as ReportName;
}

export function langOf(value: string | undefined): ReportLang {
  if (value === undefined) return "en";
  if (!isReportLang(value))
    throw new DomainError(
      "report_lang_invalid",
      `lang must be en, zh-CN or zh-TW, got ${JSON.stringify(value)}`,
      "lang",
    );
  return value;
}

function currencyParam(value: string | undefined): string | undefined {
  if (value !== undefined && !isCurrency(value))
    throw new DomainError(
      "currency_invalid",
      `currency must be an ISO 4217 code, got ${JSON.stringify(value)}`,
      "currency",
    );
  return value;
}

export async function runReport(
  ctx: ServiceContext,
  scope: ReadScope,
  name: ReportName,
  params: ReportParams,
  options: { sign?: boolean } = {},
): Promise<ReportDocument> {
  const currency = currencyParam(params.currency);
  const base = await reportBase(ctx, scope, name, params);
  if (name === "statement") {
    const party_id = params.party_id ?? scope.party_id ?? undefined;
    if (party_id === undefined)
      throw new DomainError("report_party_required", "the statement needs party_id", "party_id");
    const period = parsePeriod(params.from, params.to, statement_days_max);
    const statement = await withReadScope(ctx.db, scope, (tx) =>
      statementIn(tx, scope, { party_id, currency, period }, ctx.now()),
    );
    const signed = options.sign === false ? null : await signStatement(ctx, scope.tenant_id, statement);
    return {
      ...base,
      report: name,
      party: { id: statement.party_id, name: statement.party_name },
      period: { from: statement.from, to: statement.to },
      tables: statementTables(statement),
      json: signed ?? statement,
      verification:
        signed === null
          ? undefined
          : {
              content_sha256: signed.manifest.content_sha256,
              checkpoint:
                signed.manifest.checkpoint === null
                  ? "none"
                  : `${signed.manifest.checkpoint.origin} ${signed.manifest.checkpoint.size} ${signed.manifest.checkpoint.root}`,
              vkey: signed.manifest.vkey,
            },
    };
  }
  if (name === "settlement_status") {
    const rows = await withReadScope(ctx.db, scope, async (tx) => {
      if (params.party_id !== undefined) await assertPartyVisible(tx, scope, params.party_id);
      return settlementStatus(tx, scope, { party_id: params.party_id, currency }, ctx.now());
    });
    return { ...base, report: name, tables: rows.tables, json: rows.json };
  }
  if (name === "audit" || name === "reconciliation") {
    const period = parsePeriod(params.from, params.to, statement_days_max);
    const built = await withReadScope(ctx.db, scope, (tx) =>
      name === "audit"
        ? auditReport(tx, scope.tenant_id, period)
        : reconciliationReport(tx, scope.tenant_id, period),
    );
    return { ...base, report: name, period: { from: dayOf(period.from), to: dayOf(period.to) }, ...built };
  }
  const period = orderPeriodOf(params);
  const legs = await withReadScope(ctx.db, scope, (tx) =>
    orderLegs(tx, scope, { period, order_id: params.order_id, currency }),
  );
  const period_json = period === undefined ? undefined : { from: dayOf(period.from), to: dayOf(period.to) };
  if (name === "split_detail") return { ...base, report: name, period: period_json, ...splitDetail(legs) };
  return { ...base, report: name, period: period_json, ...platformRevenue(legs, period) };
}

/** What every report document starts with; refuses a platform report to a party-scoped caller. */
async function reportBase(
  ctx: ServiceContext,
  scope: ReadScope,
  name: ReportName,
  params: ReportParams,
): Promise<{ lang: ReportLang; platform_name: string; generated_at: string }> {
  const lang = langOf(params.lang);
  if (platform_only.has(name) && scope.party_id !== null)
    throw new DomainError("report_not_found", `no report ${name} for this caller`, "report");
  const tenant_name = await selectTenantName(ctx.db, scope.tenant_id);
  return { lang, platform_name: tenant_name ?? scope.tenant_id, generated_at: ctx.now().toISOString() };
}

function orderPeriodOf(params: ReportParams): Period | undefined {
  return params.order_id === undefined
    ? parsePeriod(params.from, params.to, order_report_days_max)
    : undefined;
}

/**
 * A report for CSV or XLSX. Split detail streams: its orders are read in keyset
 * pages as the writer asks for rows, so its memory is one page whatever the
 * period holds. Every other report is built whole (they are aggregates) and
 * handed over as one page per table.
 */
export async function runReportStreamed(
  ctx: ServiceContext,
  scope: ReadScope,
  name: ReportName,
  params: ReportParams,
  options: ExportOptions & { sign?: boolean } = {},
): Promise<StreamedDocument> {
  if (name !== "split_detail") return streamedOf(await runReport(ctx, scope, name, params, options));
  const currency = currencyParam(params.currency);
  const base = await reportBase(ctx, scope, name, params);
  const period = orderPeriodOf(params);
  const tables = await splitDetailTables(
    ctx.db,
    scope,
    { period, order_id: params.order_id, currency },
    options,
  );
  const period_json = period === undefined ? undefined : { from: dayOf(period.from), to: dayOf(period.to) };
  return { ...base, report: name, period: period_json, tables };
}

function statementTables(statement: Statement): ReportTable[] {
  const columns = [
    { key: "line", label: "kind", type: "text" as const, translate: true },
    { key: "amount_minor", label: "amount", type: "money" as const },
  ];
  const section = (
    title: string,
    opening: bigint,
    lines: { kind: string; amount_minor: bigint }[],
    closing: bigint,
  ) => ({
    title,
    currency: statement.currency,
    columns,
    rows: [
      ["opening", opening],
      ...lines.map((line) => [line.kind, line.amount_minor]),
      ["closing", closing],
    ] as Cell[][],
  });
  return [
    section("total", statement.opening_minor, statement.lines, statement.closing_minor),
    ...statement.buckets.map((bucket) =>
      section(bucket.bucket, bucket.opening_minor, bucket.lines, bucket.closing_minor),
    ),
  ];
}

type Legs = Awaited<ReturnType<typeof orderLegs>>;

function platformRevenue(legs: Legs, period: Period | undefined): Pick<ReportDocument, "tables" | "json"> {
  const groups = new Map<
    string,
    {
      day: string;
      merchant_id: string;
      category: string;
      rule_id: string;
      currency: string;
      amount_minor: bigint;
      orders: Set<string>;
    }
  >();
  for (const { order, leg, category } of legs) {
    if (leg.role !== "platform") continue;
    const day = dayOf(order.paid_at);
    const key = [order.currency, day, order.merchant_id, category, leg.rule_id].join("\u0000");
    const group = groups.get(key) ?? {
      day,
      merchant_id: order.merchant_id,
      category,
      rule_id: leg.rule_id,
      currency: order.currency,
      amount_minor: 0n,
      orders: new Set<string>(),
    };
    group.amount_minor += BigInt(leg.amount_minor);
    group.orders.add(order.id);
    groups.set(key, group);
  }
  const sorted = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => group);
  const currencies = [...new Set(sorted.map((group) => group.currency))];
  const tables: ReportTable[] = currencies.map((currency) => ({
    title: "platform_revenue",
    currency,
    columns: [
      { key: "day", label: "day", type: "date" },
      { key: "merchant_id", label: "merchant", type: "text" },
      { key: "category", label: "category", type: "text" },
      { key: "rule_id", label: "rule", type: "text" },
      { key: "orders", label: "orders", type: "count" },
      { key: "amount_minor", label: "amount", type: "money" },
    ],
    rows: sorted
      .filter((group) => group.currency === currency)
      .map((group) => [
        group.day,
        group.merchant_id,
        group.category,
        group.rule_id,
        BigInt(group.orders.size),
        group.amount_minor,
      ]),
    totals: ["amount_minor"],
  }));
  const json = {
    from: period === undefined ? null : dayOf(period.from),
    to: period === undefined ? null : dayOf(period.to),
    items: sorted.map((group) => ({ ...group, orders: group.orders.size })),
  };
  return { tables, json };
}
