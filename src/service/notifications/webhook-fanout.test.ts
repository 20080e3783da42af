import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { createParty } from "../ledger/accounts.ts";
import { createEndpoint } from "./endpoints.ts";
import { eventsAfter } from "./stream-batch.ts";
import { emit, principal } from "./testing.ts";
import { type EndpointTarget, fanOutWebhooks, planDeliveries } from "./webhook-fanout.ts";

// The fan-out is one SQL statement; planDeliveries is the same rule in
// TypeScript. Over endpoints that filter by type, by party, take everything,
// or start mid-stream, and events that include an internal one, the statement
// makes exactly the deliveries the reference plans, numbered the same, with
// the bodies the reference would send (as JSON), leased and handed over.

let db: Database;
let ctx: ServiceContext;

beforeAll(async () => {
  process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => {
  await db.close();
});

const event = (type: string, party: string, order_id: string) => ({
  type: type as "order.booked",
  party_ids: [party],
  payload: { order_id, merchant_id: party, note: 'quote " and 商户', paid_minor: 12_345 },
});

describe("fanOutWebhooks", () => {
  it("makes the deliveries the TypeScript reference plans, with its sequences and bodies", async () => {
    const tenant = await newTestTenant(ctx, "fanout");
    for (const id of ["m-a", "m-b"]) await createParty(ctx, tenant, { id, kind: "merchant", name: id });
    const admin = principal(tenant, "platform_admin");
    const url = "http://127.0.0.1:9/hooks";
    await createEndpoint(ctx, admin, { url, event_types: ["order.booked"] });
    await createEndpoint(ctx, principal(tenant, "merchant", "m-a"), { url, event_types: ["*"] });
    await createEndpoint(ctx, admin, { url, event_types: ["order.refunded", "order.booked"] });
    await emit(ctx, tenant, [event("order.booked", "m-a", "o-1"), event("order.refunded", "m-b", "o-2")]);
    // This one starts after the first two events.
    await createEndpoint(ctx, admin, { url, event_types: ["*"] });
    await emit(ctx, tenant, [
      event("order.booked", "m-b", "o-3"),
      event("inbox.item_created", "m-a", "internal"),
      event("order.refunded", "m-a", "o-4"),
    ]);
    const endpoints = await db.query<{ [column: string]: unknown } & EndpointTarget>(
      `SELECT id::text AS id, event_types, party_id, from_seq, last_sequence FROM webhook_endpoints
        WHERE tenant_id = $1 ORDER BY id`,
      [tenant],
    );
    const events = await eventsAfter(db, tenant, 0n, 1_000);
    const reference = planDeliveries(
      events,
      endpoints.map((endpoint) => ({
        ...endpoint,
        from_seq: BigInt(endpoint.from_seq),
        last_sequence: BigInt(endpoint.last_sequence),
      })),
    );
    expect(reference.length).toBeGreaterThan(5);

    const now = new Date();
    const lease_until = new Date(now.getTime() + 60_000);
    const made = await inTransaction(db, (tx) => fanOutWebhooks(tx, tenant, now, lease_until));
    expect(made.events).toBe(events.length);
    const key = (row: { endpoint_id: string; message_id: string }) => `${row.endpoint_id} ${row.message_id}`;
    expect(made.leased.map(key).sort()).toEqual(reference.map(key).sort());
    const planned = new Map(reference.map((row) => [key(row), row]));
    for (const delivery of made.leased) {
      const want = planned.get(key(delivery))!;
      expect(JSON.parse(delivery.body)).toEqual(JSON.parse(want.body));
      expect(delivery).toMatchObject({ type: want.type, attempts: 0, url });
    }
    // Queued (decisions §39): no delivery row is written before the first attempt's record.
    const stored = await db.query<{ id: string; sequence: bigint; lease_until: Date }>(
      "SELECT id::text AS id, sequence, lease_until FROM webhook_queue WHERE tenant_id = $1",
      [tenant],
    );
    expect(stored.map((row) => row.id).sort()).toEqual(made.leased.map((row) => row.id).sort());
    const written = await db.query("SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1", [tenant]);
    expect(written).toEqual([]);
    expect(made.leased.every((row) => row.queued)).toBe(true);
    expect(stored.every((row) => row.lease_until.getTime() === lease_until.getTime())).toBe(true);
    // Handed over in id order, which is each endpoint's sequence order.
    const ids = made.leased.map((row) => row.id);
    expect(ids).toEqual([...ids].sort());
    const last = await db.query<{ id: string; last_sequence: bigint }>(
      "SELECT id::text AS id, last_sequence FROM webhook_endpoints WHERE tenant_id = $1",
      [tenant],
    );
    for (const endpoint of last) {
      const mine = reference.filter((row) => row.endpoint_id === endpoint.id);
      expect(BigInt(endpoint.last_sequence)).toBe(BigInt(mine.length));
    }
    // The cursor moved: a second round takes nothing and makes nothing.
    const again = await inTransaction(db, (tx) => fanOutWebhooks(tx, tenant, new Date(), lease_until));
    expect(again).toEqual({ events: 0, leased: [] });
  });
});
