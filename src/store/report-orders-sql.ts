import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";
import { type OrderRow, orderColumns } from "./orders-sql.ts";

// The reports' reads of orders (service/reports): the orders paid in a period,
// or one named, for reports that recompute their splits (decision 9).

/** Which orders a report covers: one named, those paid in [from, to), those in one currency; any combination. */
export interface ReportOrderFilter {
  order_id: string | null;
  from: Date | null;
  to: Date | null;
  currency: string | null;
}

const filter_sql = `tenant_id = $1 AND ($2::text IS NULL OR id = $2)
        AND ($3::timestamptz IS NULL OR paid_at >= $3) AND ($4::timestamptz IS NULL OR paid_at < $4)
        AND ($5::text IS NULL OR currency = $5)`;

function filterParams(tenant_id: string, filter: ReportOrderFilter): unknown[] {
  return [tenant_id, filter.order_id, filter.from, filter.to, filter.currency];
}

/** The filter's orders, oldest paid first, at most `limit`. */
export function selectReportOrders(
  tx: Queryable,
  tenant_id: string,
  filter: ReportOrderFilter,
  limit: number,
): Promise<OrderRow[]> {
  return tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${orderColumns()} FROM orders
      WHERE ${filter_sql}
      ORDER BY paid_at, id LIMIT $6`,
    [...filterParams(tenant_id, filter), limit],
  );
}

/** How many orders the filter covers, counted up to `limit`. */
export async function countReportOrders(
  tx: Queryable,
  tenant_id: string,
  filter: ReportOrderFilter,
  limit: number,
): Promise<number> {
  const [counted] = await tx.query<{ orders: string | number }>(
    `SELECT count(*) AS orders FROM (SELECT 1 FROM orders WHERE ${filter_sql} LIMIT $6) o`,
    [...filterParams(tenant_id, filter), limit],
  );
  return Number(counted?.orders ?? 0);
}

/** The currencies of the filter's orders, sorted. */
export async function selectReportOrderCurrencies(
  tx: Queryable,
  tenant_id: string,
  filter: ReportOrderFilter,
): Promise<string[]> {
  const rows = await tx.query<{ currency: string }>(
    `SELECT DISTINCT currency::text AS currency FROM orders WHERE ${filter_sql} ORDER BY 1`,
    filterParams(tenant_id, filter),
  );
  return rows.map((row) => row.currency);
}

/** An order with its `paid_at` as PostgreSQL prints it (microseconds kept), the next page's keyset. */
export type KeysetOrderRow = OrderRow & { keyset_paid_at: string };

/** A page of the filter's orders after the keyset (paid_at, id), or the first page; `limit` rows. */
export function selectReportOrderPage(
  tx: Queryable,
  tenant_id: string,
  filter: ReportOrderFilter,
  after: { paid_at: string; id: string } | null,
  limit: number,
): Promise<KeysetOrderRow[]> {
  assert(limit >= 1, "a page reads at least one order");
  const params = [...filterParams(tenant_id, filter), limit];
  return tx.query<KeysetOrderRow & Record<string, unknown>>(
    `SELECT ${orderColumns()}, paid_at::text AS keyset_paid_at FROM orders WHERE ${filter_sql}
        ${after === null ? "" : "AND (paid_at, id) > ($7::timestamptz, $8::text)"}
        ORDER BY paid_at, id LIMIT $6`,
    after === null ? params : [...params, after.paid_at, after.id],
  );
}

/** Orders paid in [from, to), of one merchant and one currency when named, oldest first, at most `limit`. */
export function selectMerchantOrdersPaidBetween(
  tx: Queryable,
  tenant_id: string,
  filter: { from: Date; to: Date; merchant_id: string | null; currency: string | null },
  limit: number,
): Promise<OrderRow[]> {
  return tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${orderColumns()} FROM orders
        WHERE tenant_id = $1 AND paid_at >= $2 AND paid_at < $3
          AND ($4::text IS NULL OR merchant_id = $4) AND ($5::text IS NULL OR currency = $5)
        ORDER BY paid_at, id LIMIT $6`,
    [tenant_id, filter.from, filter.to, filter.merchant_id, filter.currency, limit],
  );
}

/** The orders with these ids, in no order; the caller bounds how many ids one call takes. */
export function selectOrdersByIds(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<OrderRow[]> {
  return tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${orderColumns()} FROM orders WHERE tenant_id = $1 AND id = ANY($2::text[])`,
    [tenant_id, ids],
  );
}
