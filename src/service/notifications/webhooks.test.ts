import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../core/notifications/webhook-signature.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { type Receiver, startReceiver } from "../../testing/webhook-receiver.ts";
import { createUser } from "../auth/users.ts";
import type { ServiceContext } from "../context.ts";
import { createParty } from "../ledger/accounts.ts";
import type { Resolver } from "./address-guard.ts";
import { listDeliveries } from "./deliveries.ts";
import { createEndpoint, getEndpoint, rotateSecret } from "./endpoints.ts";
import { listInbox } from "./inbox.ts";
import { dispatchUntil, emit, principal, testDeps } from "./testing.ts";

// Webhooks end to end: events written in business transactions reach a real
// receiver on loopback, signed so that the Standard Webhooks library accepts
// them, retried on the schedule with the same webhook-id, and stopped by 410.

let db: Database;
let ctx: ServiceContext;
let receiver: Receiver;

beforeAll(async () => {
  process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver.close();
  await db.close();
});

async function world(types: string[] = ["order.booked"]) {
  const tenant = await newTestTenant(ctx, "hook");
  for (const id of ["m-a", "m-b"]) await createParty(ctx, tenant, { id, kind: "merchant", name: id });
  const path = `/t/${tenant}`;
  const admin = principal(tenant, "platform_admin");
  const endpoint = await createEndpoint(ctx, admin, { url: `${receiver.url}${path}`, event_types: types });
  const mine = () => receiver.received.filter((request) => request.path.endsWith(path));
  return { tenant, endpoint, admin, mine, path };
}

const booked = (order_id: string, merchant = "m-a") => ({
  type: "order.booked" as const,
  party_ids: [merchant],
  payload: { order_id, merchant_id: merchant, currency: "CNY", paid_minor: 12_345 },
});

function verified(secret: string, request: { headers: Record<string, unknown>; body: string }): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

describe("webhooks", () => {
  it("delivers each event once, signed so that the standardwebhooks library verifies it, with a per-endpoint sequence", async () => {
    const { tenant, endpoint, mine } = await world();
    receiver.fallback = { status: 204 };
    await emit(ctx, tenant, [booked("o-1"), booked("o-2"), booked("o-3", "m-b")]);
    const deps = testDeps();
    await dispatchUntil(ctx, tenant, deps, () => mine().length >= 3);
    const bodies = mine().map((request) => verified(endpoint.secret, request) as Record<string, unknown>);
    expect(bodies.map((body) => (body.data as { order_id: string }).order_id)).toEqual(["o-1", "o-2", "o-3"]);
    expect(bodies.map((body) => body.sequence)).toEqual([1, 2, 3]);
    expect(bodies.every((body) => body.type === "order.booked")).toBe(true);
    expect(mine().map((request) => request.headers["webhook-id"])).toEqual(bodies.map((body) => body.id));
    // Another round sends nothing new: idempotent by event.
    await dispatchUntil(ctx, tenant, deps, () => true);
    expect(mine()).toHaveLength(3);
    // A first attempt is kept on its delivery, not as an attempts row (decisions §30).
    const rows = await db.query("SELECT 1 FROM webhook_attempts WHERE tenant_id = $1", [tenant]);
    expect(rows).toHaveLength(0);
  });

  it("retries after failing twice, then succeeds, with the same webhook-id and a fresh signature each time", async () => {
    const { tenant, endpoint, admin, mine } = await world();
    await emit(ctx, tenant, [booked("o-retry")]);
    receiver.script.push({ status: 500 }, { status: 503 });
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 3);
    const ids = new Set(mine().map((request) => request.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const request of mine())
      expect(verified(endpoint.secret, request)).toMatchObject({ type: "order.booked" });
    const page = await listDeliveries(ctx, admin, endpoint.id, {});
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(page.items[0]!.attempt_log.map((attempt) => attempt.status_code)).toEqual([500, 503, 204]);
    expect(page.items[0]!.attempt_log.map((attempt) => attempt.attempt)).toEqual([1, 2, 3]);
    // The first on the delivery, the later two as rows.
    const rows = await db.query("SELECT 1 FROM webhook_attempts WHERE tenant_id = $1", [tenant]);
    expect(rows).toHaveLength(2);
    expect(page.items[0]!.attempt_log.every((attempt) => attempt.latency_ms >= 0)).toBe(true);
  });

  it("is rejected by the receiver when its timestamp is replayed or altered", async () => {
    const { tenant, endpoint, mine } = await world();
    await emit(ctx, tenant, [booked("o-replay")]);
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 1);
    const original = mine()[0]!;
    expect(verified(endpoint.secret, original)).toBeTruthy();
    const id = String(original.headers["webhook-id"]);
    const old_s = Math.floor(Date.now() / 1_000) - 600;
    const replayed = {
      body: original.body,
      headers: {
        "webhook-id": id,
        "webhook-timestamp": String(old_s),
        "webhook-signature": signWebhook(endpoint.secret, id, old_s, original.body),
      },
    };
    expect(() => verified(endpoint.secret, replayed)).toThrow(/too old/i);
    const altered = {
      body: original.body,
      headers: {
        ...original.headers,
        "webhook-timestamp": String(Number(original.headers["webhook-timestamp"]) + 1),
      },
    };
    expect(() => verified(endpoint.secret, altered)).toThrow();
  });

  it("disables the endpoint at once on 410 Gone and tells its owners", async () => {
    const { tenant, endpoint, admin, mine } = await world();
    await emit(ctx, tenant, [booked("o-gone-1"), booked("o-gone-2")]);
    receiver.script.push({ status: 410 }, { status: 410 });
    await dispatchUntil(
      ctx,
      tenant,
      testDeps(),
      async () => (await getEndpoint(ctx, admin, endpoint.id)).status === "disabled",
    );
    const view = await getEndpoint(ctx, admin, endpoint.id);
    expect(view.disabled_reason).toMatch(/410/);
    const told = await db.query(
      "SELECT 1 FROM events WHERE tenant_id = $1 AND type = 'webhook_endpoint.disabled'",
      [tenant],
    );
    expect(told).toHaveLength(1);
    const before = mine().length;
    await emit(ctx, tenant, [booked("o-after-gone")]);
    await dispatchUntil(ctx, tenant, testDeps(), () => true);
    expect(mine().length).toBe(before);
  });

  it("waits as long as Retry-After asks on 429", async () => {
    const { tenant, endpoint, admin, mine } = await world();
    await emit(ctx, tenant, [booked("o-429")]);
    receiver.script.push({ status: 429, headers: { "retry-after": "120" } });
    const started = Date.now();
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 1);
    const [delivery] = (await listDeliveries(ctx, admin, endpoint.id, {})).items;
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, last_status_code: 429 });
    expect(delivery!.next_attempt_at!.getTime()).toBeGreaterThanOrEqual(started + 119_000);
  });

  it("waits as long as Retry-After asks on 503, given as an HTTP date", async () => {
    const { tenant, endpoint, admin, mine } = await world();
    await emit(ctx, tenant, [booked("o-503")]);
    const started = Date.now();
    receiver.script.push({
      status: 503,
      headers: { "retry-after": new Date(started + 600_000).toUTCString() },
    });
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 1);
    const [delivery] = (await listDeliveries(ctx, admin, endpoint.id, {})).items;
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, last_status_code: 503 });
    // The schedule alone would retry after 30 ms; the receiver asked for ten minutes (to the second).
    expect(delivery!.next_attempt_at!.getTime()).toBeGreaterThanOrEqual(started + 598_000);
    await dispatchUntil(ctx, tenant, testDeps(), () => true);
    expect(mine()).toHaveLength(1);
  });

  it("refuses at delivery a name that resolved to a public address when saved and to a private one now", async () => {
    // Saved while private targets are refused: the name resolved to a public address then.
    const tenant = await newTestTenant(ctx, "rebind");
    const admin = principal(tenant, "platform_admin");
    const port = new URL(receiver.url).port;
    const path = `/rebind/${tenant}`;
    process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "0";
    let endpoint: Awaited<ReturnType<typeof createEndpoint>>;
    try {
      endpoint = await createEndpoint(ctx, admin, {
        url: `http://hooks.rebind.test:${port}${path}`,
        event_types: ["order.booked"],
      });
    } finally {
      process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE = "1";
    }
    // Now the name answers 127.0.0.1 (the loopback receiver): DNS rebinding.
    const answers: string[] = [];
    const rebound: Resolver = async (hostname) => {
      answers.push(hostname);
      return [{ address: "127.0.0.1", family: 4 }];
    };
    await emit(ctx, tenant, [booked("o-rebind")]);
    const mine = () => receiver.received.filter((request) => request.path === path);
    const attempted = async () =>
      (await listDeliveries(ctx, admin, endpoint.id, {})).items[0]?.attempts === 1;
    await dispatchUntil(ctx, tenant, testDeps({ allow_private: false, resolver: rebound }), attempted);
    expect(answers).toContain("hooks.rebind.test");
    expect(mine()).toHaveLength(0);
    const [refused] = (await listDeliveries(ctx, admin, endpoint.id, {})).items;
    expect(refused).toMatchObject({ status: "pending", attempts: 1, last_status_code: null });
    expect(refused!.last_error).toContain("resolves to 127.0.0.1, a private address");
    // The same resolver with private targets allowed reaches the receiver: the guard, not the resolver, refused.
    await dispatchUntil(
      ctx,
      tenant,
      testDeps({ allow_private: true, resolver: rebound }),
      () => mine().length >= 1,
    );
    expect(mine()[0]!.headers["webhook-id"]).toBeDefined();
  });

  it("dead-letters after the last scheduled attempt and tells the owners in their inbox; a manual retry redelivers", async () => {
    const { tenant, endpoint, admin, mine } = await world();
    const user = await createUser(
      ctx,
      tenant,
      { role: "platform_admin", password: "a long enough password" },
      { actor: "test", ip: null },
    );
    await emit(ctx, tenant, [booked("o-dead")]);
    receiver.fallback = { status: 500 };
    try {
      await dispatchUntil(ctx, tenant, testDeps({ retry_schedule_ms: [20, 20] }), async () => {
        const inbox = await listInbox(ctx, principal(tenant, "platform_admin", null, `user:${user.id}`), {});
        return inbox.items.some((item) => item.type === "webhook_delivery.dead_lettered");
      });
    } finally {
      receiver.fallback = { status: 204 };
    }
    expect(mine()).toHaveLength(3);
    const [delivery] = (await listDeliveries(ctx, admin, endpoint.id, {})).items;
    expect(delivery).toMatchObject({ status: "dead", attempts: 3 });
    const { retryDelivery } = await import("./deliveries.ts");
    await retryDelivery(ctx, admin, delivery!.id);
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 4);
    expect(new Set(mine().map((request) => request.headers["webhook-id"])).size).toBe(1);
    expect((await listDeliveries(ctx, admin, endpoint.id, {})).items[0]).toMatchObject({
      status: "succeeded",
    });
  });

  it("gives a merchant's endpoint only that merchant's events", async () => {
    const { tenant } = await world();
    const merchant = principal(tenant, "merchant", "m-a");
    const path = `/merchant/${tenant}`;
    const endpoint = await createEndpoint(ctx, merchant, {
      url: `${receiver.url}${path}`,
      event_types: ["*"],
    });
    expect(endpoint.party_id).toBe("m-a");
    await emit(ctx, tenant, [booked("o-a1", "m-a"), booked("o-b1", "m-b"), booked("o-a2", "m-a")]);
    const mine = () => receiver.received.filter((request) => request.path.endsWith(path));
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 2);
    await dispatchUntil(ctx, tenant, testDeps(), () => true);
    const orders = mine().map(
      (request) => (verified(endpoint.secret, request) as { data: { order_id: string } }).data.order_id,
    );
    expect(orders).toEqual(["o-a1", "o-a2"]);
    await expect(getEndpoint(ctx, principal(tenant, "merchant", "m-b"), endpoint.id)).rejects.toMatchObject({
      code: "webhook_endpoint_not_found",
    });
  });

  it("signs with both the old and the new secret while a rotation overlaps", async () => {
    const { tenant, endpoint, admin, mine } = await world();
    const rotated = await rotateSecret(ctx, admin, endpoint.id, 3_600);
    expect(rotated.secret).not.toBe(endpoint.secret);
    await emit(ctx, tenant, [booked("o-rotate")]);
    await dispatchUntil(ctx, tenant, testDeps(), () => mine().length >= 1);
    const request = mine()[0]!;
    expect(String(request.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verified(endpoint.secret, request)).toBeTruthy();
    expect(verified(rotated.secret, request)).toBeTruthy();
  });
});
