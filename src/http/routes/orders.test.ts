import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import cap_order from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import negative_order from "../../../examples/orders/b2b2c-merchant-negative.json" with { type: "json" };
import self_referral_order from "../../../examples/orders/b2b2c-self-referral.json" with { type: "json" };
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import { createHold } from "../../service/ledger/holds.ts";
import { releaseDue } from "../../service/orders/order-lifecycle.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";
import { countJournal, expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";

// The order lifecycle through real HTTP, on whichever database DATABASE_URL names.

const examples = [issue_order, self_referral_order, cap_order, negative_order];
const window_ms = 7 * 86_400_000;

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

interface Fixture {
  ctx: ServiceContext;
  clock: ReturnType<typeof testClock>;
  tenant: string;
  server: TestServer;
}
const open: Fixture[] = [];

async function fixture(): Promise<Fixture> {
  const clock = testClock("2026-11-25T12:00:00Z");
  const ctx: ServiceContext = { db, now: clock.now };
  const tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant, window_ms);
  const { key } = await createApiKey(ctx, tenant, { name: "mall", role: "platform_admin" });
  const f = { ctx, clock, tenant, server: await startTestServer(ctx, key) };
  open.push(f);
  return f;
}

afterEach(async () => {
  for (const f of open.splice(0)) {
    await expectLedgerInvariants(db, f.tenant);
    await f.server.close();
  }
});

/** Σ of each party's legs over the given orders. */
function legTotals(orders: { legs: { party_id: string; amount_minor: number }[] }[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const order of orders)
    for (const leg of order.legs)
      totals.set(leg.party_id, (totals.get(leg.party_id) ?? 0) + leg.amount_minor);
  return totals;
}

async function balancesOf(f: Fixture, party_id: string) {
  const response = await f.server.call("GET", `/v1/parties/${party_id}/balances`);
  expect(response.status).toBe(200);
  return response.body.balances[0] ?? { held_minor: 0, available_minor: 0, debt_minor: 0 };
}

describe("order lifecycle over HTTP", () => {
  it("books every example order into held, completes, and the scheduler releases after the window", async () => {
    const f = await fixture();
    const booked = [];
    for (const order of examples) {
      const response = await f.server.call("POST", "/v1/orders", { body: order });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(
        response.body.legs.reduce((s: number, l: { amount_minor: number }) => s + l.amount_minor, 0),
      ).toBe(order.paid_minor);
      booked.push(response.body);
    }
    const totals = legTotals(booked);
    for (const [party_id, amount] of totals) {
      expect((await balancesOf(f, party_id)).held_minor, party_id).toBe(amount);
    }
    for (const order of examples) {
      const response = await f.server.call("POST", `/v1/orders/${order.id}/complete`);
      expect(response.status).toBe(200);
      expect(response.body.state).toBe("completed");
    }
    f.clock.advance(window_ms - 1);
    expect(await releaseDue(f.ctx, f.tenant)).toBe(0);
    f.clock.advance(1);
    expect(await releaseDue(f.ctx, f.tenant)).toBe(examples.length);
    for (const [party_id, amount] of totals) {
      const balance = await balancesOf(f, party_id);
      expect([balance.held_minor, balance.available_minor], party_id).toEqual([0, amount]);
    }
    const detail = await f.server.call("GET", `/v1/orders/${issue_order.id}`);
    expect(detail.body).toMatchObject({ state: "released", refund_state: "none" });
    expect(detail.body.transactions.map((t: { kind: string }) => t.kind)).toEqual(["split", "release"]);
    expect(detail.body.explanation.length).toBeGreaterThan(0);
    const trial = await f.server.call("GET", "/v1/ledger/trial-balance");
    expect(trial.body.balanced).toBe(true);
  });

  it("refunds before release from held and after release from available, with the shortfall as debt", async () => {
    const f = await fixture();
    const booked = (await f.server.call("POST", "/v1/orders", { body: issue_order })).body;
    const merchant_share = legTotals([booked]).get("m-1001")!;
    const before = await f.server.call("POST", `/v1/orders/${issue_order.id}/refunds`, {
      body: { refund_id: "RF-1", lines: [{ line_id: "2", qty: 1 }] },
    });
    expect(before.status, JSON.stringify(before.body)).toBe(201);
    expect(before.body.refund.before_release).toBe(true);
    const taken = legTotals([before.body.refund.reversal]).get("m-1001")!;
    expect((await balancesOf(f, "m-1001")).held_minor).toBe(merchant_share - taken);
    // Replaying the same refund changes nothing; the same id with other content is a conflict.
    expect(
      (
        await f.server.call("POST", `/v1/orders/${issue_order.id}/refunds`, {
          body: { refund_id: "RF-1", lines: [{ line_id: "2", qty: 1 }] },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await f.server.call("POST", `/v1/orders/${issue_order.id}/refunds`, {
          body: { refund_id: "RF-1", amount_minor: 5 },
        })
      ).status,
    ).toBe(409);

    await f.server.call("POST", `/v1/orders/${issue_order.id}/release`);
    const released = await balancesOf(f, "m-1001");
    expect([released.held_minor, released.available_minor]).toEqual([0, merchant_share - taken]);

    // A pending payout reserves almost all of the merchant's available balance.
    const accounts = await db.query<{ id: string }>(
      "SELECT id::text FROM accounts WHERE tenant_id = $1 AND party_id = 'm-1001' AND purpose = 'available'",
      [f.tenant],
    );
    const sink = await db.query<{ id: string }>(
      "SELECT id::text FROM accounts WHERE tenant_id = $1 AND party_id = 'platform' AND purpose = 'clearing'",
      [f.tenant],
    );
    await createHold(f.ctx, f.tenant, {
      idempotency_key: "payout-1",
      source_account_id: accounts[0]!.id,
      destination_account_id: sink[0]!.id,
      amount_minor: BigInt(merchant_share - taken - 100),
      currency: "CNY",
    });
    const after = await f.server.call("POST", `/v1/orders/${issue_order.id}/chargebacks`, {
      body: { refund_id: "CB-1", amount_minor: 200000 },
    });
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    expect(after.body.refund).toMatchObject({ kind: "chargeback", before_release: false });
    const merchant_back = legTotals([after.body.refund.reversal]).get("m-1001")!;
    const final = await balancesOf(f, "m-1001");
    expect(final.available_minor).toBe(0);
    expect(final.debt_minor).toBe(merchant_back - 100);
    const order = await f.server.call("GET", `/v1/orders/${issue_order.id}`);
    expect(order.body.refund_state).toBe("partially_refunded");
    expect(order.body.refunds.map((r: { refund_id: string }) => r.refund_id)).toEqual(["RF-1", "CB-1"]);
  });

  it("replays an Idempotency-Key, refuses it with another body, and books 50 concurrent duplicates once", async () => {
    const f = await fixture();
    const headers = { "idempotency-key": "mall-req-1" };
    const first = await f.server.call("POST", "/v1/orders", { body: issue_order, headers });
    const again = await f.server.call("POST", "/v1/orders", { body: issue_order, headers });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const conflict = await f.server.call("POST", "/v1/orders", { body: self_referral_order, headers });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: "idempotency_key_conflict", field: "Idempotency-Key" });
    // Same order id, different facts: refused.
    const changed = await f.server.call("POST", "/v1/orders", {
      body: { ...issue_order, buyer_ref: "someone-else" },
    });
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe("order_conflict");

    const storm = await Promise.all(
      Array.from({ length: 50 }, () =>
        f.server.call("POST", "/v1/orders", {
          body: self_referral_order,
          headers: { "idempotency-key": "storm" },
        }),
      ),
    );
    for (const response of storm)
      expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
    expect(new Set(storm.map((r) => r.body.transaction_id)).size).toBe(1);
    const [count] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM journal_transactions WHERE tenant_id = $1 AND order_id = $2",
      [f.tenant, self_referral_order.id],
    );
    expect(count!.n).toBe(1n);
  });

  it("books a batch with good and bad orders, each with its own result", async () => {
    const f = await fixture();
    const bad = { ...cap_order, id: "BAD-1", paid_minor: cap_order.paid_minor + 1 };
    const unknown = { ...cap_order, id: "BAD-2", merchant_id: "m-nobody" };
    const response = await f.server.call("POST", "/v1/orders/batch", {
      body: { orders: [issue_order, bad, self_referral_order, unknown, issue_order] },
    });
    expect(response.status).toBe(200);
    expect(response.body.results.map((r: { status: string }) => r.status)).toEqual([
      "created",
      "rejected",
      "created",
      "rejected",
      "replayed",
    ]);
    expect(response.body.results[1].problem).toMatchObject({ code: "order_paid_mismatch", status: 422 });
    expect(response.body.results[3].problem).toMatchObject({ code: "party_unknown", field: "merchant_id" });
    // Batch results carry the amounts to reconcile, not the explanations.
    const first = response.body.results[0].order;
    expect(first.legs.reduce((sum: number, leg: { amount_minor: number }) => sum + leg.amount_minor, 0)).toBe(
      issue_order.paid_minor,
    );
    expect(first.legs[0].note).toBeUndefined();
    expect(response.body.results[4].order.transaction_id).toBe(first.transaction_id);
    const list = await f.server.call("GET", "/v1/orders?limit=1");
    expect(list.body.items.length).toBe(1);
    const next = await f.server.call("GET", `/v1/orders?limit=1&cursor=${list.body.next_cursor}`);
    expect(next.body.items.length).toBe(1);
    expect(next.body.items[0].id).not.toBe(list.body.items[0].id);
    expect(next.body.next_cursor).toBeNull();
  });

  it("finds an order for every party with a leg in it, shared kinds through the journal, and for no other", async () => {
    const f = await fixture();
    const booked: { id: string; legs: { party_id: string; role: string; amount_minor: number }[] }[] = [];
    for (const order of examples) {
      const response = await f.server.call("POST", "/v1/orders", { body: order });
      expect(response.status).toBe(201);
      booked.push(response.body);
    }
    const parties = new Set(booked.flatMap((order) => order.legs.map((leg) => leg.party_id)));
    const ordersOf = (party_id: string) =>
      booked
        .filter((order) => order.legs.some((leg) => leg.party_id === party_id && leg.amount_minor > 0))
        .map((order) => order.id)
        .sort();
    for (const party_id of parties) {
      const listed = await f.server.call("GET", `/v1/orders?party_id=${encodeURIComponent(party_id)}`);
      expect(listed.status).toBe(200);
      expect([party_id, listed.body.items.map((item: { id: string }) => item.id).sort()]).toEqual([
        party_id,
        ordersOf(party_id),
      ]);
    }
    // A key bound to a shared party (the PSP) sees exactly the orders it took a fee on.
    const psp = booked.flatMap((order) => order.legs).find((leg) => leg.role === "psp")!.party_id;
    const { key } = await createApiKey(f.ctx, f.tenant, { name: "psp", role: "supplier", party_id: psp });
    const own = await f.server.call("GET", "/v1/orders", { key });
    expect(own.status).toBe(200);
    expect(own.body.items.map((item: { id: string }) => item.id).sort()).toEqual(ordersOf(psp));
    const detail = await f.server.call("GET", `/v1/orders/${encodeURIComponent(ordersOf(psp)[0]!)}`, { key });
    expect(detail.status).toBe(200);
    expect(detail.body.legs.every((leg: { party_id: string }) => leg.party_id === psp)).toBe(true);
  });

  it("answers each bad body with a 4xx problem naming the field, and writes nothing", async () => {
    const f = await fixture();
    await f.server.call("POST", "/v1/orders", { body: issue_order });
    const before = await countJournal(db, f.tenant);
    const line = issue_order.lines[0]!;
    const cases: [string, string, string, unknown, number, string | undefined][] = [
      [
        "missing field",
        "POST",
        "/v1/orders",
        { ...cap_order, id: "X1", paid_minor: undefined },
        400,
        "paid_minor",
      ],
      ["wrong type", "POST", "/v1/orders", { ...cap_order, id: "X2", paid_minor: "150" }, 400, "paid_minor"],
      [
        "negative amount",
        "POST",
        "/v1/orders",
        { ...cap_order, id: "X3", shipping_minor: -5 },
        400,
        "shipping_minor",
      ],
      ["huge number", "POST", "/v1/orders", { ...cap_order, id: "X4", paid_minor: 1e30 }, 400, "paid_minor"],
      ["bad currency", "POST", "/v1/orders", { ...cap_order, id: "X5", currency: "XYZ" }, 400, "currency"],
      ["paid mismatch", "POST", "/v1/orders", { ...cap_order, id: "X6", paid_minor: 151 }, 422, "paid_minor"],
      [
        "unknown party",
        "POST",
        "/v1/orders",
        { ...issue_order, id: "X7", lines: [{ ...line, supplier_id: "s-nobody" }, issue_order.lines[1]] },
        422,
        "lines[0].supplier_id",
      ],
      [
        "refund over paid",
        "POST",
        `/v1/orders/${issue_order.id}/refunds`,
        { refund_id: "RX", amount_minor: issue_order.paid_minor + 1 },
        422,
        "amount_minor",
      ],
      ["complete unknown order", "POST", "/v1/orders/NOPE/complete", undefined, 404, "id"],
      [
        "completed before paid",
        "POST",
        `/v1/orders/${issue_order.id}/complete`,
        { completed_at: "2000-01-01T00:00:00Z" },
        422,
        "completed_at",
      ],
      [
        "completed_at not a time",
        "POST",
        `/v1/orders/${issue_order.id}/complete`,
        { completed_at: "yesterday" },
        400,
        undefined,
      ],
    ];
    for (const [label, method, path, body, status, field] of cases) {
      const response = await f.server.call(method, path, { body });
      expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(status);
      expect(response.headers.get("content-type"), label).toContain("application/problem+json");
      if (field !== undefined) expect(response.body.field, label).toBe(field);
      expect(JSON.stringify(response.body), label).not.toMatch(/at .*\.ts:\d+/);
    }
    const huge = await f.server.call("POST", "/v1/orders", {
      raw: JSON.stringify({ ...cap_order, id: "X8", pad: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe("payload_too_large");
    expect(await countJournal(db, f.tenant)).toEqual(before);
    const [orders] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM orders WHERE tenant_id = $1",
      [f.tenant],
    );
    expect(orders!.n).toBe(1n);
  });
});
