import { assert } from "../core/assert.ts";
import { type DemoMarketplace, type DemoOrder, generateOrders } from "../core/demo/index.ts";

// An endless, deterministic stream of demo orders for one scenario. Each
// scenario gets its own id prefix, so scenarios never replay each other's ids.

export const feed_orders_max = 50_000_000;
const day_ms = 24 * 3_600_000;

export class OrderFeed {
  private readonly orders: Generator<DemoOrder>;
  taken = 0;

  constructor(market: DemoMarketplace, seed: number, id_prefix: string, end_ms: number) {
    this.orders = generateOrders(market, {
      seed,
      count: feed_orders_max,
      // A year of traffic spread over the stream: paid_at rises slowly.
      start_ms: end_ms - 365 * day_ms,
      end_ms,
      id_prefix,
    });
  }

  next(): DemoOrder {
    const next = this.orders.next();
    assert(next.done !== true, "the order feed is not exhausted");
    this.taken++;
    return next.value;
  }

  take(count: number): DemoOrder[] {
    const orders: DemoOrder[] = new Array(count);
    for (let index = 0; index < count; index++) orders[index] = this.next();
    return orders;
  }
}
