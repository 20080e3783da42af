import { assert } from "../../core/assert.ts";
import type { AuditConfig } from "../../core/audit/config.ts";
import { evaluateBooking, evaluateHistory, loadAuditConfig, ruleParams } from "../../core/audit/config.ts";
import type { Hit } from "../../core/audit/types.ts";
import { DomainError, isDomainError } from "../../core/errors.ts";
import { allocate, parseOrder } from "../../core/split/index.ts";
import {
  selectBuyerOrdersBetween,
  selectOrdersPaidBetween,
  selectRefundsBetween,
} from "../../store/audit-backtest-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { loadPolicyResolver } from "../orders/policy-resolver.ts";
import { bookingFacts } from "./booking.ts";
import { selectConfig } from "./configs.ts";
import { orderFacts, refundFacts } from "./history-facts.ts";

// Shadow mode: a configuration (a draft, usually) run over a past period
// without opening a case or writing anything, reporting the hits it would
// have made per rule, so finance can tune a threshold before publishing.

export const backtest_orders_max = 5_000;
/** Buyer orders read to count buyer velocity in a back-test (the period and one window before it). */
export const backtest_buyer_orders_max = 200_000;
export const backtest_period_ms_max = 366 * 24 * 3_600_000;
const samples_per_rule_max = 20;

export interface BacktestInput {
  from: Date;
  to: Date;
  orders_max?: number | undefined;
}

export interface BacktestReport {
  config_id: string;
  config_hash: string;
  from: Date;
  to: Date;
  orders_evaluated: number;
  refunds_evaluated: number;
  /** True when the period held more orders than `orders_max`: the oldest were evaluated. */
  truncated: boolean;
  rules: {
    rule_id: string;
    hits: number;
    sample: { order_id: string | null; party_id: string | null; reason: string }[];
  }[];
}

export async function backtestConfig(
  db: Queryable,
  tenant_id: string,
  config_id: string,
  input: BacktestInput,
): Promise<BacktestReport> {
  const orders_max = input.orders_max ?? 1_000;
  if (!Number.isInteger(orders_max) || orders_max < 1 || orders_max > backtest_orders_max)
    throw new DomainError("limit_invalid", `orders_max must be 1 to ${backtest_orders_max}`, "orders_max");
  const span_ms = input.to.getTime() - input.from.getTime();
  if (!(span_ms > 0) || span_ms > backtest_period_ms_max)
    throw new DomainError("period_invalid", "to must be after from, by at most 366 days", "to");
  const view = await selectConfig(db, tenant_id, config_id);
  const { config, hash } = loadAuditConfig(view.body);
  const rows = await selectOrdersPaidBetween(db, tenant_id, input, orders_max + 1);
  const truncated = rows.length > orders_max;
  const evaluated = rows.slice(0, orders_max);
  const hits: Hit[] = [];
  const orders = evaluated.map((row) => ({
    row,
    order: parseOrder(typeof row.facts === "string" ? JSON.parse(row.facts) : row.facts),
  }));
  const resolver = await loadPolicyResolver(
    db,
    tenant_id,
    orders.map((o) => o.order),
  );
  const buyer_count = await buyerVelocity(db, tenant_id, config, evaluated);
  for (const { row, order } of orders) {
    try {
      const { policy, policy_hash } = resolver.resolve(order);
      const allocation = allocate(policy, order, { policy_hash });
      hits.push(...evaluateBooking(config, bookingFacts(order, allocation, policy, row.created_at)));
    } catch (error) {
      if (!isDomainError(error)) throw error;
    }
    const history = await orderFacts(db, tenant_id, config, { order_id: row.id }, false);
    if (history?.order !== undefined) {
      const order_facts = { ...history.order, buyer_orders_in_window: buyer_count(row.id) };
      hits.push(...evaluateHistory(config, { order: order_facts }, `backtest:${row.id}`));
    }
  }
  const refunds = await selectRefundsBetween(db, tenant_id, input, orders_max);
  for (const refund of refunds) {
    const facts = await refundFacts(
      db,
      tenant_id,
      config,
      { order_id: refund.order_id, refund_id: refund.refund_id, amount_minor: String(refund.amount_minor) },
      refund.created_at,
    );
    if (facts !== null) hits.push(...evaluateHistory(config, facts, `backtest:${refund.refund_id}`));
  }
  return {
    config_id,
    config_hash: hash,
    from: input.from,
    to: input.to,
    orders_evaluated: evaluated.length,
    refunds_evaluated: refunds.length,
    truncated,
    rules: config.rules.map(({ id }) => {
      const mine = hits.filter((hit) => hit.rule_id === id);
      return {
        rule_id: id,
        hits: mine.length,
        sample: mine
          .slice(0, samples_per_rule_max)
          .map((hit) => ({ order_id: hit.order_id, party_id: hit.party_id, reason: hit.reason })),
      };
    }),
  };
}

/**
 * Buyer velocity for a back-test, counted from the orders themselves (the
 * live rule counts from audit_buyer_orders, which holds only what the history
 * rules have seen since they were switched on). One read of the buyers'
 * orders from one window before the period to its last evaluated order, then
 * a sliding count per buyer in memory. Returns the count for an order id.
 */
async function buyerVelocity(
  db: Queryable,
  tenant_id: string,
  config: AuditConfig,
  evaluated: readonly { id: string; paid_at: Date }[],
): Promise<(order_id: string) => number> {
  const velocity = ruleParams(config, "order_velocity");
  const last = evaluated.at(-1);
  const first = evaluated[0];
  if (velocity === undefined || first === undefined || last === undefined) return () => 0;
  const window_ms = velocity.window_ms!;
  const rows = await selectBuyerOrdersBetween(
    db,
    tenant_id,
    new Date(new Date(first.paid_at).getTime() - window_ms),
    last,
    backtest_buyer_orders_max,
  );
  return countsInWindow(rows, window_ms);
}

/**
 * For orders sorted by (paid_at, id): how many orders of the same buyer were
 * paid in the window (paid_at − window_ms, paid_at], this one included, the
 * same count the live rule makes. Pure.
 */
export function countsInWindow(
  orders: readonly { id: string; buyer_ref: string; paid_at: Date }[],
  window_ms: number,
): (order_id: string) => number {
  assert(window_ms > 0, "a velocity window is positive");
  // Per buyer, its times so far and the first one still inside the window: linear overall.
  const by_buyer = new Map<string, { times: number[]; start: number }>();
  const counts = new Map<string, number>();
  for (const order of orders) {
    const at_ms = new Date(order.paid_at).getTime();
    const buyer = by_buyer.get(order.buyer_ref) ?? { times: [], start: 0 };
    buyer.times.push(at_ms);
    while (buyer.times[buyer.start]! <= at_ms - window_ms) buyer.start += 1;
    by_buyer.set(order.buyer_ref, buyer);
    counts.set(order.id, buyer.times.length - buyer.start);
  }
  return (order_id) => counts.get(order_id) ?? 0;
}
