import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { enqueueEvents } from "../events/event-enqueue.ts";
import { allocationsFor } from "./allocation.ts";
import { clock_skew_ms_max } from "./book.ts";
import { orderEvent } from "./order-store.ts";
import { type OrderRow, type OrderView, orderColumns, viewOf } from "./view.ts";

/**
 * The buyer confirmed receipt (确认收货): the policy's return window starts at
 * `completed_at`, the mall's own time of it, or now. Completing twice changes
 * nothing. An order fully refunded or charged back before it was completed
 * has nothing left to complete: order_fully_refunded.
 */
export async function completeOrder(
  ctx: ServiceContext,
  tenant_id: string,
  order_id: string,
  options: { completed_at?: Date } = {},
): Promise<OrderView> {
  const [view] = await completeOrders(ctx, tenant_id, [order_id], options);
  assert(view !== undefined, "completeOrders returned nothing");
  return view;
}

export const completions_per_batch_max = 1_000;

export interface CompleteOptions {
  /** The mall's time of the completion; default now. */
  readonly completed_at?: Date;
  /**
   * `refuse` (the API): a fully refunded order is order_fully_refunded.
   * `skip`: it is left as it is; for a replay (the demo) whose refunds may
   * have been booked ahead of completions that happened before them.
   */
  readonly fully_refunded?: "refuse" | "skip";
}

/** Completes many orders in one transaction, all at `completed_at` (default now); every id must exist. */
export function completeOrders(
  ctx: ServiceContext,
  tenant_id: string,
  order_ids: readonly string[],
  options: CompleteOptions = {},
): Promise<OrderView[]> {
  assert(
    order_ids.length <= completions_per_batch_max,
    `complete at most ${completions_per_batch_max} orders at once`,
  );
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
    const completed_at = options.completed_at ?? now;
    const due = rows.filter(
      (row) =>
        row.completed_at === null &&
        row.released_at === null &&
        (options.fully_refunded !== "skip" || row.refunded_minor < row.paid_minor),
    );
    checkCompletable(due, options.completed_at, now);
    const allocationOf = await allocationsFor(tx, tenant_id, rows);
    const allocations = new Map(rows.map((row) => [row.id, allocationOf(row)]));
    const releasable = due.map((row) => new Date(completed_at.getTime() + Number(row.return_window_ms)));
    if (due.length > 0) {
      await tx.query(
        `UPDATE orders o SET completed_at = $2, releasable_at = c.releasable_at
           FROM unnest($3::text[], $4::timestamptz[]) AS c(id, releasable_at)
          WHERE o.tenant_id = $1 AND o.id = c.id`,
        [tenant_id, completed_at, due.map((row) => row.id), releasable],
      );
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
      due.map((row, i) => [row.id, { ...row, completed_at, releasable_at: releasable[i]! }]),
    );
    return order_ids.map((id) => viewOf(updated.get(id) ?? by_id.get(id)!, allocations.get(id)!, null));
  });
}

/**
 * A completion is at or after the payment and not later than the server's
 * clock plus the skew a mall's clock may have; an order the buyer got all
 * their money back for cannot be completed.
 */
function checkCompletable(due: readonly OrderRow[], completed_at: Date | undefined, now: Date): void {
  const latest_ms = now.getTime() + clock_skew_ms_max;
  if (completed_at !== undefined && completed_at.getTime() > latest_ms)
    throw new DomainError(
      "completed_at_out_of_range",
      `completed_at ${completed_at.toISOString()} is later than the server's clock plus ` +
        `${clock_skew_ms_max / 60_000} minutes (${new Date(latest_ms).toISOString()})`,
      "completed_at",
    );
  for (const row of due) {
    assert(row.refunded_minor <= row.paid_minor, "an order never refunds more than was paid");
    if (row.refunded_minor === row.paid_minor)
      throw new DomainError(
        "order_fully_refunded",
        `order ${JSON.stringify(row.id)} was fully refunded or charged back (${row.refunded_minor} of ` +
          `${row.paid_minor}); there is nothing left to complete`,
        "id",
      );
    // Only a given time is checked against paid_at: "now" may precede a paid_at
    // from a mall clock that runs ahead (book.ts allows a day).
    if (completed_at !== undefined && completed_at.getTime() < row.paid_at.getTime())
      throw new DomainError(
        "completed_at_out_of_range",
        `completed_at ${completed_at.toISOString()} is before order ${JSON.stringify(row.id)} was paid ` +
          `(${row.paid_at.toISOString()})`,
        "completed_at",
      );
  }
}
