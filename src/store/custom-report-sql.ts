import { assert } from "../core/assert.ts";
import { custom_groups_max } from "../core/limits.ts";
import type { CustomDefinition } from "../core/reports/custom.ts";
import type { Queryable } from "./database.ts";

// The SQL of custom reports (service/reports/custom-run.ts runs them):
// dimensions and measures map to fixed SQL expressions, never to caller text;
// filter values travel as parameters. Money measures are grouped per
// currency, always, so no sum ever mixes currencies.

const entry_dimensions: Readonly<Record<string, string>> = {
  day: "to_char(p.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
  month: "to_char(p.effective_at AT TIME ZONE 'UTC', 'YYYY-MM')",
  party_id: "a.party_id",
  purpose: "a.purpose",
  kind: "j.kind",
  currency: "p.currency::text",
  account_id: "a.id::text",
  order_id: "coalesce(j.order_id, '')",
};
const entry_measures: Readonly<Record<string, string>> = {
  amount_minor: "sum(p.amount_minor)",
  credits_minor: "coalesce(sum(p.amount_minor) FILTER (WHERE p.amount_minor > 0), 0)",
  debits_minor: "coalesce(-sum(p.amount_minor) FILTER (WHERE p.amount_minor < 0), 0)",
  count: "count(*)",
};
const order_dimensions: Readonly<Record<string, string>> = {
  day: "to_char(o.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
  month: "to_char(o.paid_at AT TIME ZONE 'UTC', 'YYYY-MM')",
  merchant_id: "o.merchant_id",
  currency: "o.currency::text",
};
const order_measures: Readonly<Record<string, string>> = {
  paid_minor: "sum(o.paid_minor)",
  refunded_minor: "sum(o.refunded_minor)",
  count: "count(*)",
};

const payout_dimensions: Readonly<Record<string, string>> = {
  day: "to_char(py.run_date, 'YYYY-MM-DD')",
  month: "to_char(py.run_date, 'YYYY-MM')",
  party_id: "py.party_id",
  state: "py.state",
  currency: "py.currency::text",
  cycle_key: "py.cycle_key",
};
const payout_measures: Readonly<Record<string, string>> = {
  amount_minor: "sum(py.amount_minor)",
  netted_minor: "sum(py.netted_minor)",
  eligible_minor: "sum(py.eligible_minor)",
  count: "count(*)",
};
const case_dimensions: Readonly<Record<string, string>> = {
  day: "to_char(c.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
  month: "to_char(c.opened_at AT TIME ZONE 'UTC', 'YYYY-MM')",
  kind: "c.kind",
  state: "c.state",
  party_id: "coalesce(c.party_id, '')",
  currency: "c.currency::text",
  rule_id: "r.rule_id",
};
const case_measures: Readonly<Record<string, string>> = {
  amount_minor: "sum(c.amount_minor)",
  count: "count(*)",
  decided: "count(*) FILTER (WHERE c.decided_at IS NOT NULL)",
  minutes_to_decision: "coalesce(sum(floor(extract(epoch FROM c.decided_at - c.opened_at) / 60)), 0)::int8",
};

interface SqlDataset {
  dimensions: Readonly<Record<string, string>>;
  measures: Readonly<Record<string, string>>;
  currency: string;
  /** The rows of the period: $1 tenant, $2 from, $3 to. */
  from(definition: CustomDefinition): string;
  /** The column that confines a party-scoped caller to its own rows. */
  party_column: string | null;
}

const sql_datasets: Readonly<Record<Exclude<CustomDefinition["dataset"], "legs">, SqlDataset>> = {
  entries: {
    dimensions: entry_dimensions,
    measures: entry_measures,
    currency: "p.currency::text",
    from: () => `FROM postings p
         JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
         JOIN journal_transactions j ON j.tenant_id = p.tenant_id AND j.id = p.transaction_id
        WHERE p.tenant_id = $1 AND p.effective_at >= $2 AND p.effective_at < $3`,
    // A party sees its own entries only: its accounts (row security hides the others' accounts anyway).
    party_column: "a.party_id",
  },
  orders: {
    dimensions: order_dimensions,
    measures: order_measures,
    currency: "o.currency::text",
    from: () => "FROM orders o WHERE o.tenant_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3",
    party_column: null,
  },
  payouts: {
    dimensions: payout_dimensions,
    measures: payout_measures,
    currency: "py.currency::text",
    // A payout belongs to its run's day.
    from: () => `FROM payouts py WHERE py.tenant_id = $1
        AND py.run_date >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND py.run_date < ($3::timestamptz AT TIME ZONE 'UTC')::date`,
    party_column: "py.party_id",
  },
  cases: {
    dimensions: case_dimensions,
    measures: case_measures,
    currency: "c.currency::text",
    // By rule, a case with two rules counts under each (and a manual case under "").
    from: (definition) =>
      `FROM audit_cases c ${
        definition.dimensions.includes("rule_id") || definition.filters.rule_id !== undefined
          ? "CROSS JOIN LATERAL unnest(CASE WHEN cardinality(c.rule_ids) = 0 THEN ARRAY[''] ELSE c.rule_ids END) AS r(rule_id)"
          : ""
      } WHERE c.tenant_id = $1 AND c.opened_at >= $2 AND c.opened_at < $3`,
    party_column: "c.party_id",
  },
};

export interface CustomGroup {
  currency: string;
  keys: string[];
  values: bigint[];
}

/**
 * The groups of a custom definition over an SQL dataset (every one but legs),
 * at most `custom_groups_max + 1` so the caller can tell it overflowed; a
 * party-scoped caller's rows are confined to its party where the dataset has one.
 */
export async function selectCustomGroups(
  tx: Queryable,
  scope: { tenant_id: string; party_id: string | null },
  definition: CustomDefinition,
  period: { from: Date; to: Date },
): Promise<CustomGroup[]> {
  assert(definition.dataset !== "legs", "legs are folded from orders, not grouped in SQL");
  const dataset = sql_datasets[definition.dataset];
  const { dimensions, measures } = dataset;
  const params: unknown[] = [scope.tenant_id, period.from, period.to, custom_groups_max + 1];
  const where: string[] = [];
  for (const [key, value] of Object.entries(definition.filters)) {
    params.push(value);
    where.push(`${dimensions[key]} = $${params.length}`);
  }
  if (scope.party_id !== null && dataset.party_column !== null) {
    params.push(scope.party_id);
    where.push(`${dataset.party_column} = $${params.length}`);
  }
  const keys = definition.dimensions.map((key) => `${dimensions[key]}`);
  const values = definition.measures.map((key) => `(${measures[key]})::text`);
  const currency = dataset.currency;
  const from = dataset.from(definition);
  const select = [currency, ...keys].map((expression, index) => `${expression} AS k${index}`);
  const rows = await tx.query<Record<string, string>>(
    `SELECT ${select.join(", ")}, ${values.map((expression, index) => `${expression} AS v${index}`).join(", ")}
       ${from} ${where.map((clause) => `AND ${clause}`).join(" ")}
      GROUP BY ${select.map((_, index) => index + 1).join(", ")}
      ORDER BY ${select.map((_, index) => index + 1).join(", ")} LIMIT $4`,
    params,
  );
  return rows.map((row) => ({
    currency: row.k0!,
    keys: definition.dimensions.map((_, index) => String(row[`k${index + 1}`])),
    values: definition.measures.map((_, index) => BigInt(row[`v${index}`] ?? "0")),
  }));
}
