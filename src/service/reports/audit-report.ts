import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { audit_report_cases_max } from "../../core/limits.ts";
import type { Cell, ReportDocument, ReportTable } from "../../core/reports/document.ts";
import type { Period } from "../../core/reports/period.ts";
import {
  type ReportCaseRow,
  type RuleHitsRow,
  selectCasesOpenedBetween,
  selectRuleHitsBetween,
} from "../../store/audit-report-sql.ts";
import type { Queryable } from "../../store/database.ts";

// The audit report: the cases opened in a period (each with its rules, state
// and time to decision), the rule hits per rule, and the decisions by outcome
// with their time to decision. Platform roles and auditors only. Times to
// decision are whole minutes (from opening to the deciding action).

const minute_ms = 60_000;

type CaseRow = ReportCaseRow;
type RuleRow = RuleHitsRow;

export async function auditReport(
  tx: Queryable,
  tenant_id: string,
  period: Period,
): Promise<Pick<ReportDocument, "tables" | "json">> {
  const cases = await selectCasesOpenedBetween(tx, tenant_id, period, audit_report_cases_max + 1);
  if (cases.length > audit_report_cases_max)
    throw new DomainError(
      "report_too_large",
      `the period holds more than ${audit_report_cases_max} audit cases; ask for a shorter period`,
      "to",
    );
  const rules = await selectRuleHitsBetween(tx, tenant_id, period);
  return buildAuditReport(cases, rules);
}

function minutesToDecision(row: CaseRow): bigint | null {
  if (row.decided_at === null) return null;
  const ms = row.decided_at.getTime() - row.opened_at.getTime();
  assert(ms >= 0, `case ${row.id} was decided before it was opened`);
  return BigInt(Math.floor(ms / minute_ms));
}

function median(values: readonly bigint[]): bigint | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Pure: the report's tables and JSON from what was read. */
export function buildAuditReport(
  cases: readonly CaseRow[],
  rules: readonly RuleRow[],
): Pick<ReportDocument, "tables" | "json"> {
  const case_items = cases.map((row) => ({
    case_id: row.id,
    opened_at: row.opened_at.toISOString(),
    kind: row.kind,
    state: row.state,
    order_id: row.order_id,
    party_id: row.party_id,
    rule_ids: row.rule_ids,
    currency: row.currency,
    amount_minor: BigInt(row.amount_minor),
    decided_at: row.decided_at?.toISOString() ?? null,
    minutes_to_decision: minutesToDecision(row),
  }));
  const by_state = new Map<string, bigint[]>();
  const counts = new Map<string, number>();
  for (const item of case_items) {
    counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
    if (item.minutes_to_decision !== null)
      by_state.set(item.state, [...(by_state.get(item.state) ?? []), item.minutes_to_decision]);
  }
  const decisions = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([state, count]) => {
      const times = by_state.get(state) ?? [];
      return {
        state,
        cases: BigInt(count),
        decided: BigInt(times.length),
        median_minutes_to_decision: median(times),
        max_minutes_to_decision:
          // biome-ignore lint/complexity/useMathMinMax: the minutes are bigint, which Math.max does not take
          times.length === 0 ? null : times.reduce((a, b) => (a > b ? a : b)),
      };
    });
  const currencies = [...new Set(case_items.map((item) => item.currency))].sort();
  const tables: ReportTable[] = [
    ...currencies.map(
      (currency): ReportTable => ({
        title: "audit_cases",
        currency,
        columns: [
          { key: "case_id", label: "case", type: "text" },
          { key: "opened_at", label: "opened_at", type: "date" },
          { key: "kind", label: "case_kind", type: "text" },
          { key: "state", label: "state", type: "text", translate: true },
          { key: "order_id", label: "order", type: "text" },
          { key: "party_id", label: "party", type: "text" },
          { key: "rule_ids", label: "rule", type: "text" },
          { key: "amount_minor", label: "amount", type: "money" },
          { key: "minutes_to_decision", label: "minutes_to_decision", type: "count" },
        ],
        rows: case_items
          .filter((item) => item.currency === currency)
          .map((item): Cell[] => [
            item.case_id,
            item.opened_at,
            item.kind,
            item.state,
            item.order_id,
            item.party_id,
            item.rule_ids.join(" "),
            item.amount_minor,
            item.minutes_to_decision,
          ]),
        totals: ["amount_minor"],
      }),
    ),
    {
      title: "audit_rules",
      currency: "",
      columns: [
        { key: "rule_id", label: "rule", type: "text" },
        { key: "hits", label: "hits", type: "count" },
        { key: "shadow_hits", label: "shadow_hits", type: "count" },
        { key: "cases", label: "cases", type: "count" },
      ],
      rows: rules.map((rule) => [
        rule.rule_id,
        BigInt(rule.hits),
        BigInt(rule.shadow_hits),
        BigInt(rule.cases),
      ]),
      totals: ["hits", "shadow_hits"],
    },
    {
      title: "audit_decisions",
      currency: "",
      columns: [
        { key: "state", label: "state", type: "text", translate: true },
        { key: "cases", label: "cases", type: "count" },
        { key: "decided", label: "decided", type: "count" },
        { key: "median_minutes_to_decision", label: "median_minutes_to_decision", type: "count" },
        { key: "max_minutes_to_decision", label: "max_minutes_to_decision", type: "count" },
      ],
      rows: decisions.map((row) => [
        row.state,
        row.cases,
        row.decided,
        row.median_minutes_to_decision,
        row.max_minutes_to_decision,
      ]),
      totals: ["cases", "decided"],
    },
  ];
  const json = {
    cases: case_items,
    rules: rules.map((rule) => ({
      rule_id: rule.rule_id,
      hits: Number(rule.hits),
      shadow_hits: Number(rule.shadow_hits),
      cases: Number(rule.cases),
    })),
    decisions,
  };
  return { tables, json };
}
