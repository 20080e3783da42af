import type { Queryable } from "./database.ts";

// The reads of the audit report (service/reports/audit-report.ts): the cases
// opened in a period and the hits per rule recorded in it.

export interface ReportCaseRow {
  id: string;
  kind: string;
  state: string;
  order_id: string | null;
  party_id: string | null;
  rule_ids: string[];
  amount_minor: bigint;
  currency: string;
  opened_at: Date;
  decided_at: Date | null;
}

/** Cases opened in [from, to), oldest first, at most `limit`. */
export function selectCasesOpenedBetween(
  tx: Queryable,
  tenant_id: string,
  period: { from: Date; to: Date },
  limit: number,
): Promise<ReportCaseRow[]> {
  return tx.query<ReportCaseRow & Record<string, unknown>>(
    `SELECT id::text AS id, kind, state, order_id, party_id, rule_ids, amount_minor, currency, opened_at, decided_at
       FROM audit_cases WHERE tenant_id = $1 AND opened_at >= $2 AND opened_at < $3
      ORDER BY opened_at, id LIMIT $4`,
    [tenant_id, period.from, period.to, limit],
  );
}

export interface RuleHitsRow {
  rule_id: string;
  hits: bigint;
  shadow_hits: bigint;
  cases: bigint;
}

/** Per rule, the hits recorded in [from, to) (and how many in shadow mode) and the cases they went to. */
export function selectRuleHitsBetween(
  tx: Queryable,
  tenant_id: string,
  period: { from: Date; to: Date },
): Promise<RuleHitsRow[]> {
  return tx.query<RuleHitsRow & Record<string, unknown>>(
    `SELECT rule_id, count(*)::int8 AS hits, count(*) FILTER (WHERE shadow)::int8 AS shadow_hits,
            count(DISTINCT case_id)::int8 AS cases
       FROM audit_hits WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
      GROUP BY rule_id ORDER BY rule_id`,
    [tenant_id, period.from, period.to],
  );
}
