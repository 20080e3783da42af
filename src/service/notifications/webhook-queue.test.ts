import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScopeOf } from "../../core/auth/scope.ts";
import type { Database } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import { withReadScope } from "../../store/scoped.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { createParty } from "../ledger/accounts.ts";
import { listDeliveries, retryDelivery } from "./deliveries.ts";
import { createEndpoint } from "./endpoints.ts";
import { emit, principal } from "./testing.ts";
import { claimLeasedBatch } from "./webhook-claim.ts";
import { fanOutWebhooks } from "./webhook-fanout.ts";
import { recordAttempts } from "./webhook-record.ts";

// A delivery waits for its first attempt in webhook_queue and its delivery row
// is written once, by the record (decisions §39). These tests prove that a
// queued delivery reads as pending in the deliveries list, is seen only by
// its endpoint's owners, is claimed again with the same body when its lease
// is dropped by a manual retry, and leaves the queue with its outcome and
// first attempt written on one new row without a body, which a retry rebuilds.

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

const booked = (order_id: string, merchant: string) => ({
  type: "order.booked" as const,
  party_ids: [merchant],
  payload: { order_id, merchant_id: merchant, note: 'quote " and 商户', paid_minor: 12_345 },
});

async function queuedWorld() {
  const tenant = await newTestTenant(ctx, "queue");
  for (const id of ["m-a", "m-b"]) await createParty(ctx, tenant, { id, kind: "merchant", name: id });
  const owner = principal(tenant, "merchant", "m-a");
  const endpoint = await createEndpoint(ctx, owner, { url: "http://127.0.0.1:9/hooks", event_types: ["*"] });
  await emit(ctx, tenant, [booked("o-1", "m-a")]);
  const now = new Date();
  const made = await inTransaction(db, (tx) =>
    fanOutWebhooks(tx, tenant, now, new Date(now.getTime() + 60_000)),
  );
  expect(made.leased).toHaveLength(1);
  return { tenant, owner, endpoint, handed: made.leased[0]! };
}

describe("webhook_queue", () => {
  it("lists a queued delivery as pending with no attempt, to its endpoint's owners only", async () => {
    const { tenant, owner, endpoint, handed } = await queuedWorld();
    const page = await listDeliveries(ctx, owner, endpoint.id, {});
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ id: handed.id, status: "pending", attempts: 0, attempt_log: [] });
    expect(page.items[0]!.sequence).toBe(1n);
    const done = await listDeliveries(ctx, owner, endpoint.id, { status: "succeeded" });
    expect(done.items).toEqual([]);
    // Row-level security is single-node: on Citus reads do not take the reader role (decisions §35).
    if (db.sharded === true) return;
    // Row-level security: another merchant's scoped read sees no queued row, whatever its WHERE says.
    const seen = async (party: string) =>
      withReadScope(db, readScopeOf(principal(tenant, "merchant", party)), (tx) =>
        tx.query("SELECT id FROM webhook_queue WHERE tenant_id = $1", [tenant]),
      );
    expect(await seen("m-a")).toHaveLength(1);
    expect(await seen("m-b")).toHaveLength(0);
  });

  it("is claimed again with the same body once a manual retry drops its lease", async () => {
    const { tenant, owner, handed } = await queuedWorld();
    expect((await claimLeasedBatch(ctx, tenant, 60_000, undefined)).deliveries).toEqual([]);
    const retried = await retryDelivery(ctx, owner, handed.id);
    expect(retried).toMatchObject({ id: handed.id, status: "pending" });
    const claimed = await claimLeasedBatch(ctx, tenant, 60_000, undefined);
    expect(claimed.deliveries).toHaveLength(1);
    const again = claimed.deliveries[0]!;
    // The same bytes as the fan-out handed over: the body is rebuilt by the same expression.
    expect(again).toMatchObject({
      id: handed.id,
      message_id: handed.message_id,
      body: handed.body,
      queued: true,
      attempts: 0,
    });
  });

  it("leaves the queue at its first attempt's record, its delivery row written narrow with the outcome", async () => {
    const { tenant, owner, endpoint, handed } = await queuedWorld();
    const started_at = new Date();
    const answer = (status_code: number, latency_ms: number) => ({
      status_code,
      retry_after: null,
      latency_ms,
      error: null,
    });
    // A failing first attempt, retried at once (a zero delay), so that a claim takes the retry.
    const options = { retry_schedule_ms: [0, 0] };
    await inTransaction(db, (tx) =>
      recordAttempts(tx, tenant, [handed], [answer(500, 7)], started_at, new Date(), options),
    );
    expect(await db.query("SELECT 1 FROM webhook_queue WHERE tenant_id = $1", [tenant])).toEqual([]);
    const [row] = await db.query<{ body: string | null; status: string; attempts: number }>(
      "SELECT body, status, attempts FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2",
      [tenant, handed.id],
    );
    // No copy of the body (migration 110): the retry rebuilds the same bytes from the event.
    expect(row).toEqual({ body: null, status: "pending", attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const retry = await claimLeasedBatch(ctx, tenant, 60_000, new Date());
    expect(retry.deliveries).toHaveLength(1);
    expect(retry.deliveries[0]).toMatchObject({
      id: handed.id,
      body: handed.body,
      queued: false,
      attempts: 1,
    });
    await inTransaction(db, (tx) =>
      recordAttempts(tx, tenant, retry.deliveries, [answer(204, 9)], new Date(), new Date(), options),
    );
    const page = await listDeliveries(ctx, owner, endpoint.id, {});
    expect(page.items[0]).toMatchObject({ id: handed.id, status: "succeeded", attempts: 2 });
    expect(page.items[0]!.attempt_log).toMatchObject([
      { attempt: 1, status_code: 500, latency_ms: 7 },
      { attempt: 2, status_code: 204, latency_ms: 9 },
    ]);
    // Its first attempt recorded again (a second sender after a lapsed lease): no longer queued, nothing written.
    await inTransaction(db, (tx) =>
      recordAttempts(tx, tenant, [handed], [answer(204, 3)], started_at, new Date(), options),
    );
    const rows = await db.query<{ status: string; attempts: number }>(
      "SELECT status, attempts FROM webhook_deliveries WHERE tenant_id = $1",
      [tenant],
    );
    expect(rows).toEqual([{ status: "succeeded", attempts: 2 }]);
  });
});
