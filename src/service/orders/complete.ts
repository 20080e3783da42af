import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { inTransaction } from "../../store/retry.ts";
import { auditCompletions } from "../audit/booking.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { allocationsFor } from "./allocation.ts";
import { orderEvent } from "./order-store.ts";
import { type OrderRow, type OrderView, orderColumns, viewOf } from "./view.ts";

/**
 * The buyer confirmed receipt: the policy's return window starts at the
 * receipt's own time when the mall states it (`completed_at`), else now.
 * Completing twice changes nothing.
 */
export async function completeOrder(
  ctx: ServiceContext,
  tenant_id: string,
  order_id: string,
  completed_at?: Date,
): Promise<OrderView> {
  const [view] = await completeOrders(ctx, tenant_id, [order_id], completed_at);
  assert(view !== undefined, "completeOrders returned nothing");
  return view;
}

export const completions_per_batch_max = 1_000;

/**
 * Completes many orders in one transaction; every id must exist. A stated
 * `completed_at` is judged by the audit rule `event_time_skew` against the
 * time the report arrived, inside this transaction, so a case opened for a
 * back-dated receipt holds the order before any release pass can see it.
 */
export function completeOrders(
  ctx: ServiceContext,
  tenant_id: string,
  order_ids: readonly string[],
  completed_at?: Date,
): Promise<OrderView[]> {
  assert(
    order_ids.length <= completions_per_batch_max,
    `complete at most ${completions_per_batch_max} orders at once`,
  );
  if (completed_at !== undefined && Number.isNaN(completed_at.getTime()))
    throw new DomainError("completed_at_invalid", "completed_at is not a time", "completed_at");
  return inTransaction(ctx.db, async (tx) => {
    const rows = await tx.query<OrderRow & { return_window_ms: bigint } & Record<string, unknown>>(
      `SELECT ${orderColumns("o")}, p.return_window_ms
         FROM orders o JOIN policies p ON p.tenant_id = o.tenant_id AND p.hash = o.policy_hash
        WHERE o.tenant_id = $1 AND o.id = ANY($2::text[]) ORDER BY o.id FOR UPDATE OF o`,
      [tenant_id, order_ids],
    );
    const by_id = new Map(rows.map((row) => [row.id, row]));
    const missing = order_ids.find((id) => !by_id.has(id));
    if (missing !== undefined)
      throw new DomainError("order_not_found", `no order ${JSON.stringify(missing)}`, "id");
    const now = ctx.now();
    const stated = completed_at ?? now;
    const early =
      completed_at === undefined
        ? undefined
        : rows.find((row) => completed_at.getTime() < new Date(row.paid_at).getTime());
    if (early !== undefined)
      throw new DomainError(
        "completed_at_invalid",
        `completed_at ${stated.toISOString()} is before order ${JSON.stringify(early.id)} was paid (${new Date(early.paid_at).toISOString()})`,
        "completed_at",
      );
    const allocationOf = await allocationsFor(tx, tenant_id, rows);
    const allocations = new Map(rows.map((row) => [row.id, allocationOf(row)]));
    const due = rows.filter((row) => row.completed_at === null && row.released_at === null);
    const releasable = due.map((row) => new Date(stated.getTime() + Number(row.return_window_ms)));
    if (due.length > 0) {
      await tx.query(
        `UPDATE orders o SET completed_at = $2, releasable_at = c.releasable_at
           FROM unnest($3::text[], $4::timestamptz[]) AS c(id, releasable_at)
          WHERE o.tenant_id = $1 AND o.id = c.id`,
        [tenant_id, stated, due.map((row) => row.id), releasable],
      );
      if (completed_at !== undefined) await auditCompletions(tx, tenant_id, due, stated, now);
      await enqueueEvents(
        tx,
        tenant_id,
        due.map((row, i) =>
          orderEvent("order.completed", row, allocations.get(row.id)!, { releasable_at: releasable[i] }),
        ),
        now,
      );
    }
    const updated = new Map(
      due.map((row, i) => [row.id, { ...row, completed_at: stated, releasable_at: releasable[i]! }]),
    );
    return order_ids.map((id) => viewOf(updated.get(id) ?? by_id.get(id)!, allocations.get(id)!, null));
  });
}
