import { type AuditConfig, ruleParams } from "../../core/audit/config.ts";
import type { HistoryFacts, OrderHistoryFacts, RefundHistoryFacts } from "../../core/audit/types.ts";
import {
  countBuyerOrdersInWindow,
  countMerchantOrdersInWindow,
  countMerchantRefundWindow,
  debtKey,
  insertBuyerOrders,
  type OrderFactsRow,
  selectDebtPosted,
  selectMerchantRecentPaid,
  selectOrderFacts,
} from "../../store/audit-runner-sql.ts";
import type { Queryable } from "../../store/database.ts";

// The history facts of a round of events, read set-based: one statement per
// fact for the whole round (store/audit-runner-sql.ts). The facts of each
// event are exactly those the runner read when it took events one at a time:
// the orders, refunds and balances it reads do not change within a round, and
// the buyer counts see the round's own buyer orders only up to each one.

const history_orders_max = 1_000;

export interface BookedProbe {
  order_id: unknown;
}

export interface RefundProbe {
  payload: Record<string, unknown>;
  refunded_at: Date;
}

/**
 * The history facts of booked orders, in the probes' order (null: no such
 * order, or no order rule in force). With `record_buyer`, each order with a
 * buyer is recorded in audit_buyer_orders and counted in its buyer's window;
 * a back-test (false) records nothing and leaves the buyer's count at 0: it
 * counts buyer orders itself, from the orders of the period (see backtest.ts).
 */
export async function bookedOrdersFacts(
  tx: Queryable,
  tenant_id: string,
  config: AuditConfig,
  probes: readonly BookedProbe[],
  record_buyer: boolean,
  known?: ReadonlyMap<string, OrderFactsRow>,
): Promise<(HistoryFacts | null)[]> {
  const rows = known ?? (await selectOrderFacts(tx, tenant_id, orderIds(probes)));
  const found = probes.map((probe) =>
    typeof probe.order_id === "string" ? rows.get(probe.order_id) : undefined,
  );
  const median = ruleParams(config, "order_amount_vs_median");
  const velocity = ruleParams(config, "order_velocity");
  const window_ms = velocity?.window_ms ?? 0;
  const since = (order: OrderFactsRow) => new Date(order.paid_at.getTime() - window_ms);
  const buyers = record_buyer
    ? found.flatMap((order, index) =>
        order === undefined || order.buyer_ref === null
          ? []
          : [
              {
                index,
                buyer_ref: order.buyer_ref,
                paid_at: order.paid_at,
                order_id: order.id,
                since: since(order),
              },
            ],
      )
    : [];
  const buyer_counts = new Map<number, number>();
  if (velocity !== undefined && buyers.length > 0) {
    const counts = await countBuyerOrdersInWindow(tx, tenant_id, buyers, velocity.buyer_orders_max! + 1);
    for (const [at, buyer] of buyers.entries()) buyer_counts.set(buyer.index, counts[at]!);
  }
  await insertBuyerOrders(tx, tenant_id, buyers);
  if (median === undefined && velocity === undefined) return probes.map(() => null);
  const present = found.flatMap((order, index) => (order === undefined ? [] : [{ order, index }]));
  const probe_rows = present.map(({ order }) => ({
    merchant_id: order.merchant_id,
    paid_at: order.paid_at,
    order_id: order.id,
    since: since(order),
  }));
  const recent =
    median === undefined
      ? present.map(() => [])
      : await selectMerchantRecentPaid(
          tx,
          tenant_id,
          probe_rows,
          Math.min(median.history_orders!, history_orders_max),
        );
  const merchant_counts =
    velocity === undefined
      ? present.map(() => 0)
      : await countMerchantOrdersInWindow(tx, tenant_id, probe_rows, velocity.merchant_orders_max! + 1);
  const out: (HistoryFacts | null)[] = probes.map(() => null);
  for (const [at, { order, index }] of present.entries()) {
    const facts: OrderHistoryFacts = {
      order_id: order.id,
      merchant_id: order.merchant_id,
      currency: order.currency,
      paid_minor: BigInt(order.paid_minor),
      merchant_recent_paid_minor: recent[at]!,
      merchant_orders_in_window: merchant_counts[at]!,
      buyer_ref: order.buyer_ref,
      buyer_orders_in_window: buyer_counts.get(index) ?? 0,
    };
    out[index] = { order: facts };
  }
  return out;
}

/** The history facts of refunds and chargebacks, in the probes' order (null: no such order). */
export async function refundsFacts(
  tx: Queryable,
  tenant_id: string,
  config: AuditConfig,
  probes: readonly RefundProbe[],
  known?: ReadonlyMap<string, OrderFactsRow>,
): Promise<(HistoryFacts | null)[]> {
  const rows =
    known ??
    (await selectOrderFacts(
      tx,
      tenant_id,
      orderIds(probes.map((probe) => ({ order_id: probe.payload.order_id }))),
    ));
  const found = probes.map((probe) =>
    typeof probe.payload.order_id === "string" ? rows.get(probe.payload.order_id) : undefined,
  );
  const present = found.flatMap((order, index) => (order === undefined ? [] : [{ order, index }]));
  const rate = ruleParams(config, "merchant_refund_rate");
  const counts =
    rate === undefined
      ? present.map(() => ({ orders: 0, refunds: 0 }))
      : await countMerchantRefundWindow(
          tx,
          tenant_id,
          present.map(({ order, index }) => {
            const until = probes[index]!.refunded_at;
            return {
              merchant_id: order.merchant_id,
              since: new Date(until.getTime() - rate.window_ms!),
              until,
            };
          }),
        );
  const debts = await selectDebtPosted(
    tx,
    tenant_id,
    present.map(({ order }) => ({ party_id: order.merchant_id, currency: order.currency })),
  );
  const out: (HistoryFacts | null)[] = probes.map(() => null);
  for (const [at, { order, index }] of present.entries()) {
    const { payload, refunded_at } = probes[index]!;
    const posted = debts.get(debtKey({ party_id: order.merchant_id, currency: order.currency })) ?? 0n;
    const facts: RefundHistoryFacts = {
      order_id: order.id,
      refund_id: String(payload.refund_id ?? ""),
      merchant_id: order.merchant_id,
      currency: order.currency,
      paid_minor: BigInt(order.paid_minor),
      refund_minor: BigInt(String(payload.amount_minor ?? 0)),
      paid_at_ms: order.paid_at.getTime(),
      refunded_at_ms: refunded_at.getTime(),
      merchant_orders_in_window: counts[at]!.orders,
      merchant_refunds_in_window: counts[at]!.refunds,
      // Debt accounts are debited as the debt grows: what is owed is minus the balance.
      merchant_debt_minor: posted < 0n ? -posted : 0n,
    };
    out[index] = { refund: facts };
  }
  return out;
}

export function orderIds(probes: readonly BookedProbe[]): string[] {
  return probes.flatMap((probe) => (typeof probe.order_id === "string" ? [probe.order_id] : []));
}

/** One booked order's facts (the back-test's read). */
export async function orderFacts(
  tx: Queryable,
  tenant_id: string,
  config: AuditConfig,
  payload: Record<string, unknown>,
  record_buyer = true,
): Promise<HistoryFacts | null> {
  const [facts] = await bookedOrdersFacts(
    tx,
    tenant_id,
    config,
    [{ order_id: payload.order_id }],
    record_buyer,
  );
  return facts ?? null;
}

/** One refund's facts (the back-test's read). */
export async function refundFacts(
  tx: Queryable,
  tenant_id: string,
  config: AuditConfig,
  payload: Record<string, unknown>,
  refunded_at: Date,
): Promise<HistoryFacts | null> {
  const [facts] = await refundsFacts(tx, tenant_id, config, [{ payload, refunded_at }]);
  return facts ?? null;
}
