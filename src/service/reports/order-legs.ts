import { assert } from "../../core/assert.ts";
import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { report_orders_max } from "../../core/limits.ts";
import type { Period } from "../../core/reports/period.ts";
import type { LegJson } from "../../core/split/index.ts";
import type { Database, Queryable } from "../../store/database.ts";
import {
  countReportOrders,
  type KeysetOrderRow,
  type ReportOrderFilter,
  selectReportOrderCurrencies,
  selectReportOrderPage,
  selectReportOrders,
} from "../../store/report-orders-sql.ts";
import { withReadScope } from "../../store/scoped.ts";
import { type AllocationOf, allocationsFor } from "../orders/allocation.ts";
import type { OrderRow } from "../orders/view.ts";

// Split-based reports read the orders of a period and recompute their splits
// (the engine is deterministic: decision 9), so every leg comes with its rule
// and explanation. Bounded: a period holds at most `report_orders_max` orders.

export interface OrderLeg {
  order: OrderRow;
  leg: LegJson;
  /** The category of the leg's order line, or "" for order-level legs. */
  category: string;
}

/** The orders paid in the period (or the one named) that the scope may see, with every leg the scope may see. */
export async function orderLegs(
  tx: Queryable,
  scope: ReadScope,
  options: { period?: Period | undefined; order_id?: string | undefined; currency?: string | undefined },
): Promise<OrderLeg[]> {
  const rows = await selectReportOrders(tx, scope.tenant_id, reportFilter(options), report_orders_max + 1);
  if (rows.length > report_orders_max)
    throw new DomainError(
      "report_too_large",
      `the period holds more than ${report_orders_max} orders; ask for a shorter period`,
      "to",
    );
  if (options.order_id !== undefined && rows.length === 0)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(options.order_id)}`, "order_id");
  const allocationOf = await allocationsFor(tx, scope.tenant_id, rows);
  return legsOf(scope, rows, allocationOf);
}

/** Every leg of these orders that the scope may see, in order and leg order. */
function legsOf(scope: ReadScope, rows: readonly OrderRow[], allocationOf: AllocationOf): OrderLeg[] {
  const result: OrderLeg[] = [];
  for (const order of rows) {
    const allocation = allocationOf(order);
    const categories = new Map<string, string>();
    const facts = order.facts as { lines?: { line_id?: string; category?: string }[] };
    for (const line of facts.lines ?? []) categories.set(String(line.line_id), String(line.category ?? ""));
    for (const leg of allocation.legs) {
      // A party sees its own legs only: a supplier never learns the platform's commission.
      if (scope.party_id !== null && leg.party_id !== scope.party_id) continue;
      result.push({
        order,
        leg,
        category: leg.line_id === undefined ? "" : (categories.get(leg.line_id) ?? ""),
      });
    }
  }
  return result;
}

// Exports (CSV, XLSX, custom reports over legs) read the same orders in keyset
// pages of (paid_at, id), one currency after another, each page in its own
// short scoped read: memory holds one page, and on embedded PGlite (one
// connection) booking waits for one page, never for the whole export. Pages
// are separate snapshots, so an order booked during an export is in it if it
// sorts after the page being read; each order is read exactly once either way.

export const report_page_orders = 500;

export interface OrderFilter {
  period?: Period | undefined;
  order_id?: string | undefined;
  currency?: string | undefined;
}

/** The store's filter for a report's options. */
function reportFilter(filter: OrderFilter): ReportOrderFilter {
  return {
    order_id: filter.order_id ?? null,
    from: filter.period?.from ?? null,
    to: filter.period?.to ?? null,
    currency: filter.currency ?? null,
  };
}

/**
 * Checks the export's limits before a byte is written (at most
 * `report_orders_max` orders; a named order exists) and answers the currencies
 * of its orders, sorted: one table each.
 */
export async function exportCurrencies(
  tx: Queryable,
  scope: ReadScope,
  filter: OrderFilter,
): Promise<string[]> {
  const orders = await countReportOrders(tx, scope.tenant_id, reportFilter(filter), report_orders_max + 1);
  if (orders > report_orders_max)
    throw new DomainError(
      "report_too_large",
      `the period holds more than ${report_orders_max} orders; ask for a shorter period`,
      "to",
    );
  if (filter.order_id !== undefined && orders === 0)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(filter.order_id)}`, "order_id");
  return selectReportOrderCurrencies(tx, scope.tenant_id, reportFilter(filter));
}

type KeysetRow = KeysetOrderRow;
type Keyset = { paid_at: string; id: string };

/** One page of orders after the keyset (the first page without one), and their legs, in one scoped read. */
function readOrderPage(
  db: Database,
  scope: ReadScope,
  filter: OrderFilter,
  after: Keyset | null,
  page_orders: number,
): Promise<{ rows: KeysetRow[]; legs: OrderLeg[] }> {
  return withReadScope(db, scope, async (tx) => {
    const rows = await selectReportOrderPage(tx, scope.tenant_id, reportFilter(filter), after, page_orders);
    const allocationOf = await allocationsFor(tx, scope.tenant_id, rows);
    return { rows, legs: legsOf(scope, rows, allocationOf) };
  });
}

/**
 * The legs of one currency's orders, a page of orders at a time, each page read
 * in its own scoped transaction; `on_page` is told after each read (tests count pages with it).
 */
export async function* orderLegPages(
  db: Database,
  scope: ReadScope,
  filter: OrderFilter & { currency: string },
  options: { page_orders?: number; on_page?: (orders: number) => void } = {},
): AsyncGenerator<OrderLeg[]> {
  const page_orders = options.page_orders ?? report_page_orders;
  assert(Number.isInteger(page_orders), "a page holds a whole number of orders");
  assert(page_orders > 0, "a page holds at least one order");
  const pages_max = Math.ceil((report_orders_max + 1) / page_orders) + 1;
  let after: Keyset | null = null;
  for (let page = 0; page < pages_max; page++) {
    const { rows, legs } = await readOrderPage(db, scope, filter, after, page_orders);
    options.on_page?.(rows.length);
    if (legs.length > 0) yield legs;
    if (rows.length < page_orders) return;
    const last = rows[rows.length - 1]!;
    assert(
      after === null || last.id !== after.id || last.keyset_paid_at !== after.paid_at,
      "the keyset moves",
    );
    after = { paid_at: last.keyset_paid_at, id: last.id };
  }
  assert(false, `an export read more than ${pages_max} pages of ${page_orders} orders`);
}
