import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";
import { countJournal, expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";

// Issue 12, item 6: the API's rough edges a new integrator hit, each through
// real HTTP on whichever database DATABASE_URL names.

let db: Database;
let ctx: ServiceContext;
let clock: ReturnType<typeof testClock>;
let tenant: string;
let server: TestServer;
beforeAll(async () => {
  db = await openTestDatabase();
  clock = testClock("2026-11-25T12:00:00Z");
  ctx = { db, now: clock.now };
  tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant);
  const { key } = await createApiKey(ctx, tenant, { name: "mall", role: "platform_admin" });
  server = await startTestServer(ctx, key);
});
afterAll(async () => {
  await expectLedgerInvariants(db, tenant);
  await server.close();
  await db.close();
});

function order(id: string, changes: Record<string, unknown> = {}) {
  return { ...issue_order, id, ...changes };
}

describe("the API's rough edges", () => {
  it("GET /v1/security-events?limit=10 answers 10 events at most", async () => {
    for (let index = 0; index < 12; index += 1)
      await createApiKey(ctx, tenant, { name: `k${index}`, role: "auditor" });
    const response = await server.call("GET", "/v1/security-events?limit=10");
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.items).toHaveLength(10);
    const next = await server.call("GET", `/v1/security-events?limit=10&cursor=${response.body.next_cursor}`);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
  });

  it("completes at the mall's completed_at, bounded by paid_at and the server's clock plus 5 minutes", async () => {
    const booked = await server.call("POST", "/v1/orders", { body: order("RE-COMPLETE-1") });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const before_paid = await server.call("POST", "/v1/orders/RE-COMPLETE-1/complete", {
      body: { completed_at: "2026-11-25T09:59:59Z" },
    });
    expect(before_paid.status).toBe(422);
    expect(before_paid.body).toMatchObject({ code: "completed_at_invalid", field: "completed_at" });
    const future = await server.call("POST", "/v1/orders/RE-COMPLETE-1/complete", {
      body: { completed_at: "2026-11-25T12:05:01Z" },
    });
    expect(future.status).toBe(422);
    expect(future.body.code).toBe("completed_at_invalid");
    const malformed = await server.call("POST", "/v1/orders/RE-COMPLETE-1/complete", {
      body: { completed_at: "yesterday" },
    });
    expect(malformed.status).toBe(400);
    const completed = await server.call("POST", "/v1/orders/RE-COMPLETE-1/complete", {
      body: { completed_at: "2026-11-25T11:00:00Z" },
    });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    // The return window (7 days in the example marketplace) runs from the mall's time, not the server's.
    expect(completed.body.releasable_at).toBe("2026-12-02T11:00:00.000Z");
    // Without a body the window starts now, as before.
    await server.call("POST", "/v1/orders", { body: order("RE-COMPLETE-2") });
    const now = await server.call("POST", "/v1/orders/RE-COMPLETE-2/complete");
    expect(now.status, JSON.stringify(now.body)).toBe(200);
    expect(now.body.releasable_at).toBe("2026-12-02T12:00:00.000Z");
  });

  it("refuses paid_at in 1970 or far in the future, and writes nothing", async () => {
    const journal_before = await countJournal(db, tenant);
    for (const paid_at of [
      "1970-01-01T00:00:00Z",
      "1999-12-31T23:59:59Z",
      "2026-11-26T12:00:01Z",
      "2126-01-01T00:00:00Z",
    ]) {
      const response = await server.call("POST", "/v1/orders", {
        body: order(`RE-PAID-${paid_at.slice(0, 4)}`, { paid_at }),
      });
      expect(response.status, paid_at).toBe(422);
      expect(response.body).toMatchObject({ code: "paid_at_out_of_range", field: "paid_at" });
    }
    // Within a day is accepted (the audit rule event_time_skew judges it): a mall clock ahead is not an error.
    const ahead = await server.call("POST", "/v1/orders", {
      body: order("RE-PAID-AHEAD", { paid_at: "2026-11-26T11:59:59Z" }),
    });
    expect(ahead.status, JSON.stringify(ahead.body)).toBe(201);
    expect((await countJournal(db, tenant)).transactions).toBe(journal_before.transactions + 1n);
  });

  it("answers 409 order_fully_refunded when completing a fully refunded or charged-back order", async () => {
    for (const [id, path] of [
      ["RE-REFUNDED", "refunds"],
      ["RE-CHARGED", "chargebacks"],
    ] as const) {
      expect((await server.call("POST", "/v1/orders", { body: order(id) })).status).toBe(201);
      const refund = await server.call("POST", `/v1/orders/${id}/${path}`, {
        body: { refund_id: `${id}-R1`, amount_minor: issue_order.paid_minor },
      });
      expect(refund.status, JSON.stringify(refund.body)).toBeLessThan(300);
      const completed = await server.call("POST", `/v1/orders/${id}/complete`);
      expect(completed.status, id).toBe(409);
      expect(completed.body).toMatchObject({ code: "order_fully_refunded", status: 409 });
      const detail = await server.call("GET", `/v1/orders/${id}`);
      expect(detail.body.completed_at ?? null).toBeNull();
    }
  });

  it("refuses an order whose merchant is not a party even when the merchant gets no leg (422, nothing written)", async () => {
    const small = {
      id: "RE-GHOST",
      currency: "CNY",
      paid_at: "2026-11-25T10:00:00Z",
      merchant_id: "m-ghost",
      lines: [{ line_id: "1", sku: "S", category: "apparel", qty: 1, unit_price_minor: 100 }],
      paid_minor: 100,
    };
    const journal_before = await countJournal(db, tenant);
    const response = await server.call("POST", "/v1/orders", { body: small });
    expect(response.status, JSON.stringify(response.body)).toBe(422);
    expect(response.body).toMatchObject({ code: "party_unknown", field: "merchant_id" });
    expect(await countJournal(db, tenant)).toEqual(journal_before);
    expect((await server.call("GET", "/v1/orders/RE-GHOST")).status).toBe(404);
    // With a known merchant the same order books, and the platform's line minimum takes it all.
    const known = await server.call("POST", "/v1/orders", { body: { ...small, merchant_id: "m-1001" } });
    expect(known.status, JSON.stringify(known.body)).toBe(201);
    expect(known.body.legs.map((leg: { party_id: string }) => leg.party_id)).not.toContain("m-1001");
  });

  it("keeps order and refund ids to letters, digits and ._- (at most 64), readable in a list and a detail", async () => {
    for (const id of ["a/b", "a b", "..", "-lead", "a#1", "a?b", "x".repeat(65), "订单1", "a:b"]) {
      const response = await server.call("POST", "/v1/orders", { body: order(id) });
      expect(response.status, id).toBe(400);
      expect(response.body.field, id).toBe("id");
    }
    const bad_refund = await server.call("POST", "/v1/orders/RE-COMPLETE-2/refunds", {
      body: { refund_id: "r/1", amount_minor: 100 },
    });
    expect(bad_refund.status).toBe(400);
    expect(bad_refund.body.field).toBe("refund_id");
    const id = `Z9._-${"w".repeat(59)}`;
    expect(id).toHaveLength(64);
    const booked = await server.call("POST", "/v1/orders", { body: order(id) });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const detail = await server.call("GET", `/v1/orders/${id}`);
    expect(detail.status, JSON.stringify(detail.body)).toBe(200);
    expect(detail.body.id).toBe(id);
    const list = await server.call("GET", "/v1/orders?limit=50");
    expect(list.status).toBe(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toContain(id);
    const refund = await server.call("POST", `/v1/orders/${id}/refunds`, {
      body: { refund_id: `R.${"r".repeat(62)}`, amount_minor: 100 },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  });
});
