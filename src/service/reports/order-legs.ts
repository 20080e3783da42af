import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import type { Period } from "../../core/reports/period.ts";
import type { LegJson } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { allocationsFor } from "../orders/allocation.ts";
import { type OrderRow, orderColumns } from "../orders/view.ts";

// Split-based reports read the orders of a period and recompute their splits
// (the engine is deterministic: decision 9), so every leg comes with its rule
// and explanation. Bounded: a period holds at most `report_orders_max` orders.

export const report_orders_max = 200_000;

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
  const rows = await tx.query<OrderRow & Record<string, unknown>>(
    `SELECT ${orderColumns()} FROM orders
      WHERE tenant_id = $1 AND ($2::text IS NULL OR id = $2)
        AND ($3::timestamptz IS NULL OR paid_at >= $3) AND ($4::timestamptz IS NULL OR paid_at < $4)
        AND ($5::text IS NULL OR currency = $5)
      ORDER BY paid_at, id LIMIT $6`,
    [
      scope.tenant_id,
      options.order_id ?? null,
      options.period?.from ?? null,
      options.period?.to ?? null,
      options.currency ?? null,
      report_orders_max + 1,
    ],
  );
  if (rows.length > report_orders_max)
    throw new DomainError(
      "report_too_large",
      `the period holds more than ${report_orders_max} orders; ask for a shorter period`,
      "to",
    );
  if (options.order_id !== undefined && rows.length === 0)
    throw new DomainError("order_not_found", `no order ${JSON.stringify(options.order_id)}`, "order_id");
  const allocationOf = await allocationsFor(tx, scope.tenant_id, rows);
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
