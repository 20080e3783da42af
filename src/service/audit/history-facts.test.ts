import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { AuditConfig } from "../../core/audit/config.ts";
import type { HistoryFacts } from "../../core/audit/types.ts";
import { selectEventsAfter } from "../../store/audit-runner-sql.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { sequenceEventsOnce } from "../events/event-sequencer.ts";
import { bookOrders } from "../orders/book.ts";
import { refundOrder } from "../orders/order-lifecycle.ts";
import type { Actor } from "./actor.ts";
import { configInForce, createAuditConfigDraft, publishAuditConfig } from "./configs.ts";
import { bookedOrdersFacts, orderFacts, refundFacts, refundsFacts } from "./history-facts.ts";

// The audit runner reads a round's history facts set-based, one statement per
// fact. This proves they equal the facts read one event at a time in stream
// order (each booked order recorded for its buyer before the next is read):
// orders out of paid_at order, two buyers, caps reached, an order booked twice
// in the round, an event naming no order, and refunds.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const finance: Actor = { actor: "user:fin", person: "user:fin", role: "finance" };
const rules = [
  { id: "order_amount_vs_median", params: { history_orders: 3, history_orders_min: 1 } },
  { id: "order_velocity", params: { buyer_orders_max: 3, merchant_orders_max: 6, window_ms: 3_600_000 } },
  { id: "merchant_refund_rate" },
];

class Rollback extends Error {}

async function readRolledBack<T>(read: (tx: Queryable) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await db
    .transaction(async (tx) => {
      out = await read(tx);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return out as T;
}

describe("a round's history facts", () => {
  it("equal the facts read one event at a time", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "history");
    await seedExampleMarketplace(ctx, tenant, 60_000);
    const draft = await createAuditConfigDraft(
      ctx,
      tenant,
      { name: "history", body: { four_eyes_minor: 1_000_000, rules } },
      finance,
    );
    await publishAuditConfig(ctx, tenant, draft.id, finance);
    // Paid out of order, minutes apart, by two buyers; some amounts differ so the median moves.
    const offsets_min = [0, -5, 3, -20, 7, -1, 2, -8, 5, -3];
    for (const [n, offset] of offsets_min.entries()) {
      const paid_at = new Date(Date.parse(issue_order.paid_at) + offset * 60_000).toISOString();
      const order = { ...issue_order, id: `HIST-${n}`, paid_at, buyer_ref: n % 3 === 0 ? "u-7" : "u-42" };
      const [result] = await bookOrders(ctx, tenant, [order]);
      expect(result?.status).toBe("created");
      clock.advance(30_000);
    }
    await refundOrder(ctx, tenant, "HIST-1", { refund_id: "rf-1", amount_minor: 100_000 }, "refund");
    await refundOrder(ctx, tenant, "HIST-4", { refund_id: "rf-2", amount_minor: 50_000 }, "refund");
    while ((await sequenceEventsOnce(ctx)) > 0);
    const loaded = await configInForce(db, tenant);
    expect(loaded).not.toBeNull();
    const config: AuditConfig = loaded!.config;
    const events = await selectEventsAfter(db, tenant, 0n, 200);
    const booked = events.filter((event) => event.type === "order.booked").map((event) => event.payload);
    const refunds = events
      .filter((event) => event.type === "order.refunded")
      .map((event) => ({ payload: event.payload, refunded_at: event.created_at }));
    expect(booked.length).toBe(10);
    expect(refunds.length).toBe(2);
    // The same order twice and a payload naming none, as a redelivered or odd stream may hold.
    const probes = [...booked, booked[2]!, { order_id: 17 }].map((payload) => ({
      order_id: payload.order_id,
    }));

    const one_by_one = await readRolledBack(async (tx) => {
      const facts: (HistoryFacts | null)[] = [];
      for (const probe of probes) facts.push(await orderFacts(tx, tenant, config, probe));
      for (const refund of refunds)
        facts.push(await refundFacts(tx, tenant, config, refund.payload, refund.refunded_at));
      return facts;
    });
    const as_a_round = await readRolledBack(async (tx) => [
      ...(await bookedOrdersFacts(tx, tenant, config, probes, true)),
      ...(await refundsFacts(tx, tenant, config, refunds)),
    ]);
    expect(as_a_round).toEqual(one_by_one);
    // The case is not trivial: caps are reached, buyers differ, the median has history, refunds count.
    const orders = one_by_one.flatMap((facts) => (facts?.order === undefined ? [] : [facts.order]));
    expect(new Set(orders.map((order) => order.buyer_orders_in_window)).size).toBeGreaterThan(2);
    expect(Math.max(...orders.map((order) => order.buyer_orders_in_window))).toBe(4);
    expect(Math.max(...orders.map((order) => order.merchant_orders_in_window))).toBe(7);
    expect(orders.some((order) => order.merchant_recent_paid_minor.length === 3)).toBe(true);
    expect(one_by_one.at(-1)?.refund?.merchant_refunds_in_window).toBe(2);
    expect(one_by_one[probes.length - 1]).toBeNull();
  }, 120_000);
});
