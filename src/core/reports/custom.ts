import { isCurrency } from "../currency.ts";
import { DomainError } from "../errors.ts";
import {
  dimensions_max,
  filters_max,
  measures_max,
  order_report_days_max,
  statement_days_max,
} from "../limits.ts";
import { day_ms, dayOf, type Period, parsePeriod } from "./period.ts";

// A saved custom report: a dataset, the dimensions to group by, the measures
// to sum, equality filters and a period (fixed days, or relative to when it
// runs, for schedules). Checked here, purely, so an unknown name is a clear
// error at save time and not a surprise at run time.

export const custom_datasets = {
  entries: {
    dimensions: ["day", "month", "party_id", "purpose", "kind", "currency", "account_id", "order_id"],
    measures: ["amount_minor", "credits_minor", "debits_minor", "count"],
    days_max: statement_days_max,
  },
  orders: {
    dimensions: ["day", "month", "merchant_id", "currency"],
    measures: ["paid_minor", "refunded_minor", "count"],
    days_max: statement_days_max,
  },
  legs: {
    dimensions: [
      "day",
      "month",
      "merchant_id",
      "party_id",
      "role",
      "rule_id",
      "category",
      "currency",
      "order_id",
    ],
    measures: ["amount_minor", "count", "orders"],
    days_max: order_report_days_max,
  },
  payouts: {
    dimensions: ["day", "month", "party_id", "state", "currency", "cycle_key"],
    measures: ["amount_minor", "netted_minor", "eligible_minor", "count"],
    days_max: statement_days_max,
  },
  cases: {
    dimensions: ["day", "month", "kind", "state", "party_id", "currency", "rule_id"],
    measures: ["amount_minor", "count", "decided", "minutes_to_decision"],
    days_max: statement_days_max,
  },
} as const;

/** Datasets for platform roles and auditors only: a party-scoped caller may not save or run them. */
export const platform_datasets: readonly string[] = ["cases"];

/** Pure: whether a caller of this scope may use the dataset. */
export function datasetAllowed(dataset: string, party_id: string | null): boolean {
  return party_id === null || !platform_datasets.includes(dataset);
}

export type CustomDataset = keyof typeof custom_datasets;
export const relative_periods = ["previous_day", "previous_week", "previous_month"] as const;
export type RelativePeriod = (typeof relative_periods)[number];

export interface CustomDefinition {
  dataset: CustomDataset;
  dimensions: string[];
  measures: string[];
  filters: Record<string, string>;
  period: { from: string; to: string } | { relative: RelativePeriod };
}

function invalid(message: string, field: string): DomainError {
  return new DomainError("report_definition_invalid", message, field);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function names(value: unknown, field: string, allowed: readonly string[], max: number): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max)
    throw invalid(`${field} must list 1 to ${max} names`, field);
  const seen = new Set<string>();
  value.forEach((name, index) => {
    if (typeof name !== "string" || !allowed.includes(name))
      throw invalid(
        `${field}[${index}] ${JSON.stringify(name)} is unknown; this dataset has ${allowed.join(", ")}`,
        `${field}[${index}]`,
      );
    if (seen.has(name)) throw invalid(`${field}[${index}] ${name} appears twice`, `${field}[${index}]`);
    seen.add(name);
  });
  return [...seen];
}

export function parseDefinition(value: unknown): CustomDefinition {
  if (!isRecord(value)) throw invalid("definition must be an object", "definition");
  const dataset = value.dataset;
  if (typeof dataset !== "string" || !Object.hasOwn(custom_datasets, dataset))
    throw invalid(
      `definition.dataset must be one of ${Object.keys(custom_datasets).join(", ")}, got ${JSON.stringify(dataset)}`,
      "definition.dataset",
    );
  const spec = custom_datasets[dataset as CustomDataset];
  const dimensions = names(value.dimensions, "definition.dimensions", spec.dimensions, dimensions_max);
  const measures = names(value.measures, "definition.measures", spec.measures, measures_max);
  const filters: Record<string, string> = {};
  if (value.filters !== undefined) {
    if (!isRecord(value.filters)) throw invalid("definition.filters must be an object", "definition.filters");
    const entries = Object.entries(value.filters);
    if (entries.length > filters_max) throw invalid(`at most ${filters_max} filters`, "definition.filters");
    for (const [key, filter] of entries) {
      const field = `definition.filters.${key}`;
      if (!(spec.dimensions as readonly string[]).includes(key) || key === "day" || key === "month")
        throw invalid(
          `cannot filter on ${JSON.stringify(key)}; filter on one of this dataset's dimensions`,
          field,
        );
      if (typeof filter !== "string" || filter.length < 1 || filter.length > 128)
        throw invalid(`${field} must be a string of 1 to 128 characters`, field);
      if (key === "currency" && !isCurrency(filter)) throw invalid(`${field} is not an ISO 4217 code`, field);
      filters[key] = filter;
    }
  }
  const period = value.period;
  if (!isRecord(period))
    throw invalid("definition.period must be {from, to} or {relative}", "definition.period");
  let parsed_period: CustomDefinition["period"];
  if (period.relative !== undefined) {
    if (!(relative_periods as readonly unknown[]).includes(period.relative))
      throw invalid(
        `definition.period.relative must be one of ${relative_periods.join(", ")}`,
        "definition.period.relative",
      );
    parsed_period = { relative: period.relative as RelativePeriod };
  } else {
    const fixed = parsePeriod(period.from, period.to, spec.days_max);
    parsed_period = { from: dayOf(fixed.from), to: dayOf(fixed.to) };
  }
  return { dataset: dataset as CustomDataset, dimensions, measures, filters, period: parsed_period };
}

/** The period a relative definition covers when run at `at`: the whole day, week (Monday first) or month before it. */
export function resolvePeriod(definition: CustomDefinition, at: Date): Period {
  const period = definition.period;
  if ("from" in period)
    return parsePeriod(period.from, period.to, custom_datasets[definition.dataset].days_max);
  const today = Math.floor(at.getTime() / day_ms) * day_ms;
  if (period.relative === "previous_day") return { from: new Date(today - day_ms), to: new Date(today) };
  if (period.relative === "previous_week") {
    const weekday = (new Date(today).getUTCDay() + 6) % 7;
    const monday = today - weekday * day_ms;
    return { from: new Date(monday - 7 * day_ms), to: new Date(monday) };
  }
  const now = new Date(today);
  const first = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const previous = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  return { from: new Date(previous), to: new Date(first) };
}

/** When a schedule runs next after `at`: the next midnight, Monday or first of the month (UTC). */
export function nextRunAfter(schedule: "daily" | "weekly" | "monthly", at: Date): Date {
  const today = Math.floor(at.getTime() / day_ms) * day_ms;
  if (schedule === "daily") return new Date(today + day_ms);
  if (schedule === "weekly") {
    const weekday = (new Date(today).getUTCDay() + 6) % 7;
    return new Date(today + (7 - weekday) * day_ms);
  }
  const now = new Date(today);
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}
