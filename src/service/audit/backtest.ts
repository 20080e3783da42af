import { evaluateBooking, evaluateHistory, loadAuditConfig } from "../../core/audit/config.ts";
import type { Hit } from "../../core/audit/types.ts";
import { DomainError, isDomainError } from "../../core/errors.ts";
import { allocate, parseOrder } from "../../core/split/index.ts";
import type { Queryable } from "../../store/database.ts";
import { loadPolicyResolver } from "../orders/policy-resolver.ts";
import { bookingFacts } from "./booking.ts";
import { selectConfig } from "./configs.ts";
import { orderFacts, refundFacts } from "./runner.ts";

// Shadow mode: a configuration (a draft, usually) run over a past period
// without opening a case or writing anything, reporting the hits it would
// have made per rule, so finance can tune a threshold before publishing.

export const backtest_orders_max = 5_000;
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
  const rows = await db.query<{ id: string; facts: unknown; created_at: Date }>(
    `SELECT id, facts, created_at FROM orders WHERE tenant_id = $1 AND paid_at >= $2 AND paid_at < $3
      ORDER BY paid_at, id LIMIT $4`,
    [tenant_id, input.from, input.to, orders_max + 1],
  );
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
  for (const { row, order } of orders) {
    try {
      const { policy, policy_hash } = resolver.resolve(order);
      const allocation = allocate(policy, order, { policy_hash });
      hits.push(...evaluateBooking(config, bookingFacts(order, allocation, policy, row.created_at)));
    } catch (error) {
      if (!isDomainError(error)) throw error;
    }
    const history = await orderFacts(db, tenant_id, config, { order_id: row.id }, false);
    if (history !== null) hits.push(...evaluateHistory(config, history, `backtest:${row.id}`));
  }
  const refunds = await db.query<{
    order_id: string;
    refund_id: string;
    amount_minor: bigint;
    created_at: Date;
  }>(
    `SELECT order_id, refund_id, amount_minor, created_at FROM order_refunds
      WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at LIMIT $4`,
    [tenant_id, input.from, input.to, orders_max],
  );
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
