import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { selectOrdersWithReturnWindowForUpdate, updateOrdersCompleted } from "../../store/orders-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { auditCompletions } from "../audit/booking.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { allocationsFor } from "./allocation.ts";
import { clock_skew_ms_max } from "./book.ts";
import { orderEvent } from "./order-lookups.ts";
import { type OrderRow, type OrderView, viewOf } from "./view.ts";

/**
 * The buyer confirmed receipt (确认收货): the policy's return window starts at
 * the receipt's own time when the mall states it (`completed_at`), else now.
 * Completing twice changes nothing. An order fully refunded or charged back
 * before it was completed has nothing left to complete: order_fully_refunded.
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

export interface CompleteOptions {
  /**
   * `refuse` (the API): a fully refunded order is order_fully_refunded.
   * `skip`: it is left as it is; for a replay (the demo) whose refunds may
   * have been booked ahead of completions that happened before them.
   */
  readonly fully_refunded?: "refuse" | "skip";
}

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
  options: CompleteOptions = {},
): Promise<OrderView[]> {
  assert(
    order_ids.length <= completions_per_batch_max,
    `complete at most ${completions_per_batch_max} orders at once`,
  );
  if (completed_at !== undefined && Number.isNaN(completed_at.getTime()))
    throw new DomainError("completed_at_invalid", "completed_at is not a time", "completed_at");
  return inTransaction(ctx.db, async (tx) => {
    const rows = await selectOrdersWithReturnWindowForUpdate(tx, tenant_id, order_ids);
    const by_id = new Map(rows.map((row) => [row.id, row]));
    const missing = order_ids.find((id) => !by_id.has(id));
    if (missing !== undefined)
      throw new DomainError("order_not_found", `no order ${JSON.stringify(missing)}`, "id");
    const now = ctx.now();
    const stated = completed_at ?? now;
    const due = rows.filter(
      (row) =>
        row.completed_at === null &&
        row.released_at === null &&
        (options.fully_refunded !== "skip" || row.refunded_minor < row.paid_minor),
    );
    checkCompletable(rows, due, completed_at, now);
    const allocationOf = await allocationsFor(tx, tenant_id, rows);
    const allocations = new Map(rows.map((row) => [row.id, allocationOf(row)]));
    const releasable = due.map((row) => new Date(stated.getTime() + Number(row.return_window_ms)));
    if (due.length > 0) {
      await updateOrdersCompleted(
        tx,
        tenant_id,
        stated,
        due.map((row, index) => ({ id: row.id, releasable_at: releasable[index]! })),
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

/**
 * A stated completion is at or after each order's payment (main's rule) and
 * not later than the server's clock plus the skew a mall's clock may have;
 * an order the buyer got all their money back for cannot be completed.
 */
function checkCompletable(
  rows: readonly OrderRow[],
  due: readonly OrderRow[],
  completed_at: Date | undefined,
  now: Date,
): void {
  if (completed_at !== undefined) {
    const latest_ms = now.getTime() + clock_skew_ms_max;
    if (completed_at.getTime() > latest_ms)
      throw new DomainError(
        "completed_at_invalid",
        `completed_at ${completed_at.toISOString()} is later than the server's clock plus ` +
          `${clock_skew_ms_max / 60_000} minutes (${new Date(latest_ms).toISOString()})`,
        "completed_at",
      );
    const early = rows.find((row) => completed_at.getTime() < new Date(row.paid_at).getTime());
    if (early !== undefined)
      throw new DomainError(
        "completed_at_invalid",
        `completed_at ${completed_at.toISOString()} is before order ${JSON.stringify(early.id)} was paid ` +
          `(${new Date(early.paid_at).toISOString()})`,
        "completed_at",
      );
  }
  for (const row of due) {
    assert(row.refunded_minor <= row.paid_minor, "an order never refunds more than was paid");
    if (row.refunded_minor === row.paid_minor)
      throw new DomainError(
        "order_fully_refunded",
        `order ${JSON.stringify(row.id)} was fully refunded or charged back (${row.refunded_minor} of ` +
          `${row.paid_minor}); there is nothing left to complete`,
        "id",
      );
  }
}
