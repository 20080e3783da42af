import { assert } from "../core/assert.ts";

// What the simulation knows from the answers the services gave it, kept apart
// from the database: the external flows (buyers' money in, refunds and
// confirmed payouts out) and the entities later operations pick from. The
// invariants compare this tally with the books.

export interface SimOrder {
  id: string;
  body: Record<string, unknown>;
  paid_minor: bigint;
  refunded_minor: bigint;
  refunds: number;
}

export interface SimRefund {
  order_id: string;
  body: { refund_id: string; amount_minor: number };
  chargeback: boolean;
}

export interface SimPayout {
  id: string;
  amount_minor: bigint;
  state: "in_transit" | "paid_out" | "failed";
}

/** Picks come from the most recent orders: old ones are long released and settled. */
export const live_orders_max = 2_000;
/**
 * Orders kept in memory: the live window and some slack, so a run of a
 * million operations (over a million orders) holds a bounded model. An older
 * order is never picked again; the books still hold it and the final check
 * recomputes its legs from the database.
 */
const orders_kept_max = 2 * live_orders_max;
/** Refunds and resolved payouts kept for replays. */
export const replayable_max = 1_000;

export class SimModel {
  /** The most recent orders (at most `orders_kept_max`), oldest first. */
  readonly orders: SimOrder[] = [];
  readonly order_by_id = new Map<string, SimOrder>();
  /** Every order acknowledged since the run began. */
  orders_count = 0;
  readonly refunds: SimRefund[] = [];
  readonly in_transit: SimPayout[] = [];
  readonly resolved: SimPayout[] = [];
  /** Orders booked since the last check: their legs are recomputed at the next one. */
  unchecked_order_ids: string[] = [];
  /** Orders booked or refunded since the last check: their stored sums are compared with the tally at the next one. */
  touched_orders = new Map<string, SimOrder>();
  paid_in_minor = 0n;
  refunded_out_minor = 0n;
  paid_out_minor = 0n;
  in_transit_minor = 0n;
  /** Outcome counts per operation kind: "ok", "replayed", or the refusal's error code. */
  readonly outcomes = new Map<string, Map<string, number>>();
  /** Wall time per operation kind, to see where a run spends it. */
  readonly elapsed_ms = new Map<string, number>();

  pickOrder(pick: number): SimOrder | undefined {
    if (this.orders.length === 0) return undefined;
    const window = Math.min(this.orders.length, live_orders_max);
    return this.orders[this.orders.length - 1 - Math.floor(pick * window)];
  }

  addOrder(order: SimOrder): void {
    assert(!this.order_by_id.has(order.id), `order ${order.id} is booked once`);
    assert(order.paid_minor > 0n, "an order pays something");
    this.orders.push(order);
    this.order_by_id.set(order.id, order);
    this.orders_count++;
    this.unchecked_order_ids.push(order.id);
    this.touched_orders.set(order.id, order);
    this.paid_in_minor += order.paid_minor;
    if (this.orders.length > orders_kept_max) {
      // Dropped in one splice of the oldest half-window, so the array is not shifted per order.
      for (const old of this.orders.splice(0, this.orders.length - live_orders_max))
        this.order_by_id.delete(old.id);
    }
    assert(this.orders.length <= orders_kept_max, "the order window is bounded");
  }

  addRefund(refund: SimRefund, amount_minor: bigint): void {
    const order = this.order_by_id.get(refund.order_id);
    assert(order !== undefined, "a refund is of a known order");
    assert(amount_minor > 0n, "a refund gives back something");
    order.refunded_minor += amount_minor;
    assert(order.refunded_minor <= order.paid_minor, `order ${order.id} refunded at most what was paid`);
    this.refunded_out_minor += amount_minor;
    this.touched_orders.set(order.id, order);
    this.refunds.push(refund);
    if (this.refunds.length > replayable_max) this.refunds.shift();
  }

  addPayout(payout: SimPayout): void {
    assert(payout.state === "in_transit", "a new payout is in transit");
    this.in_transit.push(payout);
    this.in_transit_minor += payout.amount_minor;
  }

  resolvePayout(index: number, state: "paid_out" | "failed"): void {
    const [payout] = this.in_transit.splice(index, 1);
    assert(payout !== undefined, "a resolved payout was in transit");
    payout.state = state;
    this.in_transit_minor -= payout.amount_minor;
    if (state === "paid_out") this.paid_out_minor += payout.amount_minor;
    this.resolved.push(payout);
    if (this.resolved.length > replayable_max) this.resolved.shift();
  }

  time(part: string, elapsed_ms: number): void {
    this.elapsed_ms.set(part, (this.elapsed_ms.get(part) ?? 0) + elapsed_ms);
  }

  count(kind: string, outcome: string, elapsed_ms: number): void {
    this.time(kind, elapsed_ms);
    const by_outcome = this.outcomes.get(kind) ?? new Map<string, number>();
    by_outcome.set(outcome, (by_outcome.get(outcome) ?? 0) + 1);
    this.outcomes.set(kind, by_outcome);
  }
}
