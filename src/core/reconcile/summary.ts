import { add, compare, type Exact, formatExact, zero } from "./decimal.ts";
import type { SummaryCheck } from "./types.ts";

// Column sums kept beside the detail rows, to check a bill's own summary or
// footer against them: a disagreement is reported, never trusted.

export class ColumnSums {
  readonly sums = new Map<string, Exact>();
  count = 0;

  add(field: string, value: Exact): void {
    this.sums.set(field, add(this.sums.get(field) ?? zero, value));
  }

  get(field: string): Exact {
    return this.sums.get(field) ?? zero;
  }
}

export function checkSummary(
  expected: readonly { field: string; bill: Exact | number; rows: Exact | number }[],
): SummaryCheck {
  const differences: SummaryCheck["differences"] = [];
  for (const item of expected) {
    const same =
      typeof item.bill === "number" || typeof item.rows === "number"
        ? item.bill === item.rows
        : compare(item.bill, item.rows) === 0;
    if (!same)
      differences.push({
        field: item.field,
        bill: typeof item.bill === "number" ? String(item.bill) : formatExact(item.bill, 2),
        rows: typeof item.rows === "number" ? String(item.rows) : formatExact(item.rows, 2),
      });
  }
  return { present: true, agrees: differences.length === 0, differences };
}

export const no_summary: SummaryCheck = { present: false, agrees: true, differences: [] };
