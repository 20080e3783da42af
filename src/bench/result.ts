import { assert } from "../core/assert.ts";
import type { Backend, ScenarioName } from "./args.ts";

// One line of `clearsplit bench --json`: exactly these fields, in this order.
export interface ScenarioResult {
  scenario: ScenarioName;
  backend: Backend;
  orders: number;
  seconds: number;
  orders_per_s: number;
  postings_per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_rss_mb: number;
  checkpoint_lag_ms_max: number | null;
  baseline_orders_per_s: number | null;
  ratio_vs_baseline: number | null;
  /** Processes of the server the scenario drove (`serve --workers`); 1 for in-process scenarios. */
  server_workers: number;
}

export const result_fields = [
  "scenario",
  "backend",
  "orders",
  "seconds",
  "orders_per_s",
  "postings_per_s",
  "p50_ms",
  "p99_ms",
  "max_rss_mb",
  "checkpoint_lag_ms_max",
  "baseline_orders_per_s",
  "ratio_vs_baseline",
  "server_workers",
] as const satisfies readonly (keyof ScenarioResult)[];

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export interface Measured {
  scenario: ScenarioName;
  backend: Backend;
  orders: number;
  postings: number;
  seconds: number;
  latencies_ms: readonly number[];
  max_rss_mb: number;
  checkpoint_lag_ms_max: number | null;
  baseline_orders_per_s: number | null;
  server_workers?: number;
}

export function toResult(measured: Measured): ScenarioResult {
  assert(measured.seconds > 0, "a scenario ran for some time");
  assert(measured.orders >= 0, "orders are counted");
  const orders_per_s = measured.orders / measured.seconds;
  const baseline = measured.baseline_orders_per_s;
  return {
    scenario: measured.scenario,
    backend: measured.backend,
    orders: measured.orders,
    seconds: round(measured.seconds, 3),
    orders_per_s: round(orders_per_s, 1),
    postings_per_s: round(measured.postings / measured.seconds, 1),
    p50_ms: percentile(measured.latencies_ms, 0.5),
    p99_ms: percentile(measured.latencies_ms, 0.99),
    max_rss_mb: round(measured.max_rss_mb, 1),
    checkpoint_lag_ms_max: measured.checkpoint_lag_ms_max,
    baseline_orders_per_s: baseline === null ? null : round(baseline, 1),
    ratio_vs_baseline: baseline === null || baseline === 0 ? null : round(orders_per_s / baseline, 2),
    server_workers: measured.server_workers ?? 1,
  };
}

/** Nearest-rank percentile, in ms with 0.01 ms resolution; null when nothing was measured. */
export function percentile(samples: readonly number[], fraction: number): number | null {
  assert(fraction > 0 && fraction <= 1, "a percentile is in (0, 1]");
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return round(sorted[rank - 1]!, 2);
}

/** The JSON line: keys in `result_fields` order, nothing else. */
export function toJsonLine(result: ScenarioResult): string {
  const ordered: Record<string, unknown> = {};
  for (const field of result_fields) ordered[field] = result[field];
  return JSON.stringify(ordered);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number")
    return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  return String(value);
}

export function formatTable(results: readonly ScenarioResult[]): string {
  const headers = [
    "scenario",
    "backend",
    "orders",
    "s",
    "orders/s",
    "postings/s",
    "p50 ms",
    "p99 ms",
    "rss MB",
    "lag ms",
    "baseline/s",
    "× base",
    "workers",
  ];
  const rows = results.map((result) => result_fields.map((field) => cell(result[field])));
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...rows.map((row) => row[index]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((text, index) => (index < 2 ? text.padEnd(widths[index]!) : text.padStart(widths[index]!)))
      .join("  ");
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}
