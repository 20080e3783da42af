import { DomainError } from "../errors.ts";

// A report period is a half-open range of whole UTC days [from, to): the
// statement's opening is the balance before `from`, its closing the balance
// before `to`. Days, because the aggregates are per UTC day; half-open, so
// consecutive periods chain (one's closing is the next one's opening).

export const day_ms = 86_400_000;

export interface Period {
  readonly from: Date;
  readonly to: Date;
}

const date_pattern = /^\d{4}-\d{2}-\d{2}$/;
const instant_pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A day `2026-11-01` or a UTC instant at midnight `2026-11-01T00:00:00Z`. */
export function parseDay(value: unknown, field: string): Date {
  if (typeof value !== "string" || (!date_pattern.test(value) && !instant_pattern.test(value)))
    throw new DomainError(
      "report_period_invalid",
      `${field} must be a date like 2026-11-01, got ${JSON.stringify(value)}`,
      field,
    );
  const at = new Date(date_pattern.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at.getTime()) || (date_pattern.test(value) && at.toISOString().slice(0, 10) !== value))
    throw new DomainError("report_period_invalid", `${field} is not a real date: ${value}`, field);
  if (at.getTime() % day_ms !== 0)
    throw new DomainError(
      "report_period_invalid",
      `${field} must be a whole UTC day (midnight UTC), got ${value}`,
      field,
    );
  return at;
}

export function parsePeriod(from: unknown, to: unknown, days_max: number): Period {
  if (from === undefined) throw new DomainError("report_period_invalid", "from is required", "from");
  if (to === undefined) throw new DomainError("report_period_invalid", "to is required", "to");
  const period = { from: parseDay(from, "from"), to: parseDay(to, "to") };
  if (period.to.getTime() <= period.from.getTime())
    throw new DomainError(
      "report_period_invalid",
      `to (${dayOf(period.to)}) must be after from (${dayOf(period.from)}); the period is [from, to)`,
      "to",
    );
  const days = (period.to.getTime() - period.from.getTime()) / day_ms;
  if (days > days_max)
    throw new DomainError(
      "report_period_too_long",
      `this report covers at most ${days_max} days, the period asked has ${days}`,
      "to",
      { days_max },
    );
  return period;
}

/** `YYYY-MM-DD` of a UTC instant. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}
