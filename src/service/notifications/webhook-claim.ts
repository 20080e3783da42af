import { assert } from "../../core/assert.ts";
import { webhook_deliveries_per_claim_max } from "../../core/limits.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import { claimDueDeliveries } from "../../store/webhook-deliveries-sql.ts";
import { claimQueuedDeliveries } from "../../store/webhook-queue-sql.ts";
import type { ServiceContext } from "../context.ts";
import type { LeasedBatch } from "./webhook-hand-off.ts";

// The sender's other source, beside the fan-out's hand-off: deliveries claimed
// with a lease, one short transaction each under the tenant's sender lock:
// queued first attempts whose lease lapsed or was dropped (webhook_queue,
// decisions §39), then retries, redeliveries by hand and test messages.

// The sender's advisory lock ("ClearSplit notifications" + 1): its own key, so claiming never waits
// for a fan-out in flight; the sequencers and folds use others.
export const sender_lock_class = 0x0c5e_0e18;

/**
 * Claims up to `webhook_deliveries_per_claim_max` due deliveries, leased for `lease_ms`; none when another
 * process holds the sender lock. Retries are claimed only when due by `retries_due_by`.
 */
export function claimLeasedBatch(
  ctx: ServiceContext,
  tenant_id: string,
  lease_ms: number,
  retries_due_by: Date | undefined,
): Promise<LeasedBatch> {
  assert(lease_ms >= 1, "a lease is positive");
  return inTransaction(ctx.db, async (tx) => {
    // Taken before the lease's start, so the lease is never thought longer than it is.
    const leased_ms = performance.now();
    if (!(await tryTransactionLock(tx, sender_lock_class, tenant_id))) return { deliveries: [], leased_ms };
    const now = ctx.now();
    const lease_until = new Date(now.getTime() + lease_ms);
    const queued = await claimQueuedDeliveries(tx, tenant_id, {
      now,
      limit: webhook_deliveries_per_claim_max,
      lease_until,
    });
    const room = webhook_deliveries_per_claim_max - queued.length;
    const written =
      room === 0
        ? []
        : await claimDueDeliveries(tx, tenant_id, {
            now,
            limit: room,
            lease_until,
            retries_due_by: retries_due_by ?? now,
          });
    const deliveries = [...queued, ...written];
    assert(deliveries.length <= webhook_deliveries_per_claim_max, "a claim takes at most its limit");
    return { deliveries, leased_ms };
  });
}
