import { evaluateBooking, evaluateCompletion, type LoadedConfig } from "../../core/audit/config.ts";
import type { BookingFacts, Hit } from "../../core/audit/types.ts";
import { hits_per_call_max } from "../../core/limits.ts";
import type { Allocation, Order, Policy } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { configInForce } from "./configs.ts";
import { raiseAuditHits } from "./hits.ts";

// The cheap rules, inside the booking transaction: they read nothing the
// booking has not already read (the order, its allocation, its policy), so
// a batch without hits costs one small query (the configuration in force)
// and some arithmetic. Hits open cases in the same transaction as the order.

const bounds_by_policy = new WeakMap<Policy, readonly [number, number] | null>();

/** The lowest and highest commission rate a policy declares anywhere (default, categories, merchants, tiers). */
export function commissionBounds(policy: Policy): readonly [number, number] | null {
  const cached = bounds_by_policy.get(policy);
  if (cached !== undefined) return cached;
  const rates: number[] = [];
  const table = (t: { default_bp?: number; by_category: ReadonlyMap<string, number> }) => {
    if (t.default_bp !== undefined) rates.push(t.default_bp);
    rates.push(...t.by_category.values());
  };
  const commission = policy.commission;
  table(commission);
  for (const merchant of commission.merchants.values()) table(merchant);
  for (const tier of commission.tiers) table(tier);
  const bounds = rates.length === 0 ? null : ([Math.min(...rates), Math.max(...rates)] as const);
  bounds_by_policy.set(policy, bounds);
  return bounds;
}

export function bookingFacts(
  order: Order,
  allocation: Allocation,
  policy: Policy,
  arrived_at: Date,
): BookingFacts {
  let non_merchant_minor = 0n;
  const commission_legs: BookingFacts["commission_legs"][number][] = [];
  for (const leg of allocation.legs) {
    if (leg.role !== "merchant") non_merchant_minor += leg.amount_minor;
    if (leg.rule_id === policy.commission.id)
      commission_legs.push({
        amount_minor: leg.amount_minor,
        basis_minor: leg.basis_minor,
        ...(leg.line_id === undefined ? {} : { line_id: leg.line_id }),
      });
  }
  let platform_coupon_minor = 0n;
  for (const coupon of order.coupons)
    if (coupon.funded_by === "platform") platform_coupon_minor += coupon.amount_minor;
  return {
    order_id: order.id,
    merchant_id: order.merchant_id,
    buyer_ref: order.buyer_ref ?? null,
    referrers: order.referrers,
    currency: order.currency,
    paid_minor: order.paid_minor,
    paid_at_ms: Date.parse(order.paid_at),
    arrived_at_ms: arrived_at.getTime(),
    platform_coupon_minor,
    flags: allocation.flags,
    non_merchant_minor,
    cap_bp: policy.cap.bp,
    commission_legs,
    commission_bp_bounds: commissionBounds(policy),
  };
}

/** Runs the booking rules over freshly booked orders and records their hits. Returns how many hits. */
export async function auditBookedOrders(
  tx: Queryable,
  tenant_id: string,
  loaded: LoadedConfig | null,
  booked: readonly { order: Order; allocation: Allocation; policy: Policy }[],
  now: Date,
): Promise<number> {
  if (loaded === null || booked.length === 0) return 0;
  const hits: Hit[] = [];
  for (const item of booked)
    hits.push(...evaluateBooking(loaded.config, bookingFacts(item.order, item.allocation, item.policy, now)));
  if (hits.length === 0) return 0;
  for (let start = 0; start < hits.length; start += hits_per_call_max) {
    const chunk = hits.slice(start, start + hits_per_call_max);
    await raiseAuditHits(tx, tenant_id, chunk, { config_hash: loaded.hash, actor: "system:audit" }, now);
  }
  return hits.length;
}

/**
 * Judges stated receipt times (`completed_at`) against the report's arrival,
 * in the completion's transaction. Returns how many hits.
 */
export async function auditCompletions(
  tx: Queryable,
  tenant_id: string,
  orders: readonly { id: string; merchant_id: string; currency: string; paid_minor: bigint }[],
  completed_at: Date,
  now: Date,
): Promise<number> {
  if (orders.length === 0) return 0;
  const loaded = await configInForce(tx, tenant_id);
  if (loaded === null) return 0;
  const hits = orders.flatMap((order) =>
    evaluateCompletion(loaded.config, {
      order_id: order.id,
      merchant_id: order.merchant_id,
      currency: order.currency,
      paid_minor: BigInt(order.paid_minor),
      completed_at_ms: completed_at.getTime(),
      arrived_at_ms: now.getTime(),
    }),
  );
  for (let start = 0; start < hits.length; start += hits_per_call_max)
    await raiseAuditHits(
      tx,
      tenant_id,
      hits.slice(start, start + hits_per_call_max),
      { config_hash: loaded.hash, actor: "system:audit" },
      now,
    );
  return hits.length;
}
