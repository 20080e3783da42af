import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";
import {
  selectBalancesByPurpose,
  selectCategories,
  selectCommission,
  selectGmvByDay,
  selectRefundsByDay,
  selectSubsidies,
} from "../../store/stats-sql.ts";

// The platform dashboard's figures for the last `days` UTC days: totals, a
// series by day and a breakdown by category, per currency. Amounts are bigint
// minor units; nothing is averaged or converted between currencies.

export const overview_days_max = 366;
const day_ms = 86_400_000;

export interface DayPoint {
  day: string;
  orders: bigint;
  gmv_minor: bigint;
  refunds_minor: bigint;
  chargebacks_minor: bigint;
}

export interface CurrencyOverview {
  currency: string;
  orders: bigint;
  gmv_minor: bigint;
  commission_minor: bigint;
  subsidies_minor: bigint;
  refunds: { count: bigint; amount_minor: bigint };
  chargebacks: { count: bigint; amount_minor: bigint };
  balances: {
    held_minor: bigint;
    available_minor: bigint;
    in_transit_minor: bigint;
    paid_out_minor: bigint;
    debt_minor: bigint;
  };
  by_day: DayPoint[];
  by_category: { category: string; lines: bigint; gross_minor: bigint }[];
}

export interface Overview {
  from: Date;
  to: Date;
  days: number;
  currencies: CurrencyOverview[];
}

function emptyCurrency(currency: string, days: string[]): CurrencyOverview {
  return {
    currency,
    orders: 0n,
    gmv_minor: 0n,
    commission_minor: 0n,
    subsidies_minor: 0n,
    refunds: { count: 0n, amount_minor: 0n },
    chargebacks: { count: 0n, amount_minor: 0n },
    balances: {
      held_minor: 0n,
      available_minor: 0n,
      in_transit_minor: 0n,
      paid_out_minor: 0n,
      debt_minor: 0n,
    },
    by_day: days.map((day) => ({ day, orders: 0n, gmv_minor: 0n, refunds_minor: 0n, chargebacks_minor: 0n })),
    by_category: [],
  };
}

/** The UTC days from `from` (a midnight) up to and including the day of `to`. */
export function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let ms = from.getTime(); ms < to.getTime(); ms += day_ms)
    days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

export async function platformOverview(
  db: Queryable,
  tenant_id: string,
  options: { days: number; now: Date },
): Promise<Overview> {
  assert(Number.isInteger(options.days), "days must be an integer");
  assert(options.days >= 1 && options.days <= overview_days_max, "days must be within the bound");
  const to = options.now;
  const today_ms = Math.floor(to.getTime() / day_ms) * day_ms;
  const from = new Date(today_ms - (options.days - 1) * day_ms);
  const days = daysBetween(from, to);
  const [gmv, refunds, categories, subsidies, commission, balances] = await Promise.all([
    selectGmvByDay(db, tenant_id, from, to),
    selectRefundsByDay(db, tenant_id, from, to),
    selectCategories(db, tenant_id, from, to),
    selectSubsidies(db, tenant_id, from, to),
    selectCommission(db, tenant_id, from, to),
    selectBalancesByPurpose(db, tenant_id),
  ]);
  const by_currency = new Map<string, CurrencyOverview>();
  const of = (currency: string) => {
    let entry = by_currency.get(currency);
    if (entry === undefined) {
      entry = emptyCurrency(currency, days);
      by_currency.set(currency, entry);
    }
    return entry;
  };
  const pointOf = (entry: CurrencyOverview, day: string) => entry.by_day.find((point) => point.day === day);
  for (const row of gmv) {
    const entry = of(row.currency);
    entry.orders += BigInt(row.orders);
    entry.gmv_minor += BigInt(row.gmv_minor);
    const point = pointOf(entry, row.day);
    if (point) {
      point.orders += BigInt(row.orders);
      point.gmv_minor += BigInt(row.gmv_minor);
    }
  }
  for (const row of refunds) {
    const entry = of(row.currency);
    const total = row.kind === "chargeback" ? entry.chargebacks : entry.refunds;
    total.count += BigInt(row.count);
    total.amount_minor += BigInt(row.amount_minor);
    const point = pointOf(entry, row.day);
    if (point && row.kind === "chargeback") point.chargebacks_minor += BigInt(row.amount_minor);
    else if (point) point.refunds_minor += BigInt(row.amount_minor);
  }
  for (const row of categories)
    of(row.currency).by_category.push({
      category: row.category,
      lines: BigInt(row.lines),
      gross_minor: BigInt(row.gross_minor),
    });
  for (const row of subsidies) of(row.currency).subsidies_minor += BigInt(row.amount_minor);
  for (const row of commission) of(row.currency).commission_minor += BigInt(row.amount_minor);
  for (const row of balances) {
    const amount = BigInt(row.amount_minor);
    const target = of(row.currency).balances;
    if (row.purpose === "held") target.held_minor += amount;
    else if (row.purpose === "available") target.available_minor += amount;
    else if (row.purpose === "in_transit") target.in_transit_minor += amount;
    else if (row.purpose === "paid_out") target.paid_out_minor += amount;
    // Debt accounts carry what parties owe as a negative balance; shown as a positive amount owed.
    else if (row.purpose === "debt") target.debt_minor += -amount;
  }
  const currencies = [...by_currency.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
  return { from, to, days: options.days, currencies };
}
