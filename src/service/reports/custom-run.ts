import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { custom_groups_max } from "../../core/limits.ts";
import { type CustomDefinition, datasetAllowed, resolvePeriod } from "../../core/reports/custom.ts";
import type { Cell, ReportDocument, ReportTable } from "../../core/reports/document.ts";
import type { ReportLang } from "../../core/reports/format.ts";
import { dayOf, type Period } from "../../core/reports/period.ts";
import { type CustomGroup, selectCustomGroups } from "../../store/custom-report-sql.ts";
import type { Database } from "../../store/database.ts";
import { withReadScope } from "../../store/scoped.ts";
import { selectTenantName } from "../../store/tenants-sql.ts";
import type { ServiceContext } from "../context.ts";
import { exportCurrencies, type OrderLeg, orderLegPages } from "./order-legs.ts";
import type { ExportOptions } from "./split-detail.ts";

// Runs a custom definition (checked by core/reports/custom.ts) under the
// caller's scope. Dimensions and measures map to fixed SQL expressions, never
// to caller text; filter values travel as parameters. Money measures are
// grouped per currency, always, so no sum ever mixes currencies.

type Group = CustomGroup;

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
      : await withReadScope(ctx.db, scope, (tx) => selectCustomGroups(tx, scope, definition, period));
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
  const tenant_name = await selectTenantName(ctx.db, scope.tenant_id);
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
    platform_name: tenant_name ?? scope.tenant_id,
    period: { from: dayOf(period.from), to: dayOf(period.to) },
    tables,
    json: { definition, from: dayOf(period.from), to: dayOf(period.to), items },
    generated_at: ctx.now().toISOString(),
  };
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
