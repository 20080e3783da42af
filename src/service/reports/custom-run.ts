import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { custom_groups_max } from "../../core/limits.ts";
import { type CustomDefinition, datasetAllowed, resolvePeriod } from "../../core/reports/custom.ts";
import type { Cell, ReportDocument, ReportTable } from "../../core/reports/document.ts";
import type { ReportLang } from "../../core/reports/format.ts";
import { dayOf, type Period } from "../../core/reports/period.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { withReadScope } from "../../store/scoped.ts";
import type { ServiceContext } from "../context.ts";
import { exportCurrencies, type OrderLeg, orderLegPages } from "./order-legs.ts";
import type { ExportOptions } from "./split-detail.ts";

// Runs a custom definition (checked by core/reports/custom.ts) under the
// caller's scope. Dimensions and measures map to fixed SQL expressions, never
// to caller text; filter values travel as parameters. Money measures are
// grouped per currency, always, so no sum ever mixes currencies.

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

type Group = { currency: string; keys: string[]; values: bigint[] };

export async function runCustom(
  ctx: ServiceContext,
  scope: ReadScope,
  definition: CustomDefinition,
  options: { lang: ReportLang; period?: Period | undefined; title?: string | undefined } & ExportOptions,
): Promise<ReportDocument> {
  if (!datasetAllowed(definition.dataset, scope.party_id))
    throw new DomainError(
      "forbidden",
      `dataset ${definition.dataset} is for platform roles and auditors`,
      "definition.dataset",
    );
  const period = options.period ?? resolvePeriod(definition, ctx.now());
  const groups =
    definition.dataset === "legs"
      ? await legGroups(ctx.db, scope, definition, period, options)
      : await withReadScope(ctx.db, scope, (tx) => sqlGroups(tx, scope, definition, period));
  if (groups.length > custom_groups_max)
    throw new DomainError(
      "report_too_large",
      `more than ${custom_groups_max} rows; group by fewer dimensions`,
      "definition",
    );
  const columns: ReportTable["columns"] = [
    ...definition.dimensions.map((key) => ({
      key,
      label: key,
      type: key === "day" ? ("date" as const) : ("text" as const),
    })),
    ...definition.measures.map((key) => ({
      key,
      label: key,
      type: key.endsWith("_minor") ? ("money" as const) : ("count" as const),
    })),
  ];
  const currencies = [...new Set(groups.map((group) => group.currency))].sort();
  const tables: ReportTable[] = currencies.map((currency) => ({
    title: options.title ?? `custom_${definition.dataset}`,
    currency,
    columns,
    rows: groups
      .filter((group) => group.currency === currency)
      .map((group) => [...group.keys, ...group.values] as Cell[]),
    totals: definition.measures.filter((measure) => measure.endsWith("_minor")),
  }));
  const [tenant] = await ctx.db.query<{ name: string }>("SELECT name FROM tenants WHERE id = $1", [
    scope.tenant_id,
  ]);
  const items = groups.map((group) => {
    const item: Record<string, unknown> = { currency: group.currency };
    definition.dimensions.forEach((key, index) => {
      item[key] = group.keys[index];
    });
    definition.measures.forEach((key, index) => {
      item[key] = group.values[index];
    });
    return item;
  });
  return {
    report: options.title ?? `custom_${definition.dataset}`,
    lang: options.lang,
    platform_name: tenant?.name ?? scope.tenant_id,
    period: { from: dayOf(period.from), to: dayOf(period.to) },
    tables,
    json: { definition, from: dayOf(period.from), to: dayOf(period.to), items },
    generated_at: ctx.now().toISOString(),
  };
}

async function sqlGroups(
  tx: Queryable,
  scope: ReadScope,
  definition: CustomDefinition,
  period: Period,
): Promise<Group[]> {
  const dataset = sql_datasets[definition.dataset as keyof typeof sql_datasets];
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

// Legs are recomputed from their orders, so the dataset is folded page by page
// (keyset pages of orders, each its own scoped read, as the split detail export
// reads them): memory holds one page of orders and the groups, never the legs.
async function legGroups(
  db: Database,
  scope: ReadScope,
  definition: CustomDefinition,
  period: Period,
  options: ExportOptions,
): Promise<Group[]> {
  const currencies = await withReadScope(db, scope, (tx) => exportCurrencies(tx, scope, { period }));
  const groups = new Map<string, Group & { orders: Set<string> }>();
  for (const currency of currencies)
    for await (const legs of orderLegPages(db, scope, { period, currency }, options)) {
      for (const item of legs) addLeg(groups, definition, item);
      if (groups.size > custom_groups_max)
        throw new DomainError(
          "report_too_large",
          `more than ${custom_groups_max} rows; group by fewer dimensions`,
          "definition",
        );
    }
  const result = [...groups.values()].map((group) => ({
    currency: group.currency,
    keys: group.keys,
    values: definition.measures.map((key, index) =>
      key === "orders" ? BigInt(group.orders.size) : group.values[index]!,
    ),
  }));
  return result.sort((a, b) => {
    const x = [a.currency, ...a.keys].join("\u0000");
    const y = [b.currency, ...b.keys].join("\u0000");
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function addLeg(
  groups: Map<string, Group & { orders: Set<string> }>,
  definition: CustomDefinition,
  { order, leg, category }: OrderLeg,
): void {
  const value: Record<string, string> = {
    day: dayOf(order.paid_at),
    month: dayOf(order.paid_at).slice(0, 7),
    merchant_id: order.merchant_id,
    party_id: leg.party_id,
    role: leg.role,
    rule_id: leg.rule_id,
    category,
    currency: order.currency,
    order_id: order.id,
  };
  if (Object.entries(definition.filters).some(([key, filter]) => value[key] !== filter)) return;
  const keys = definition.dimensions.map((key) => value[key] ?? "");
  const id = [order.currency, ...keys].join("\u0000");
  const group = groups.get(id) ?? { currency: order.currency, keys, values: [], orders: new Set<string>() };
  group.orders.add(order.id);
  const measures: Record<string, bigint> = {
    amount_minor: BigInt(leg.amount_minor),
    count: 1n,
    orders: 0n,
  };
  group.values = definition.measures.map((key, index) => (group.values[index] ?? 0n) + (measures[key] ?? 0n));
  groups.set(id, group);
}
