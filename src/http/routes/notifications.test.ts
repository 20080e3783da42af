import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventType } from "../../core/event-catalogue.ts";
import { createApiKey } from "../../service/auth/api-keys.ts";
import { createUser } from "../../service/auth/users.ts";
import type { ServiceContext } from "../../service/context.ts";
import { sequenceEventsOnce } from "../../service/events/event-sequencer.ts";
import { createParty } from "../../service/ledger/accounts.ts";
import { dispatchUntil, emit, testDeps } from "../../service/notifications/testing.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";

// The inbox over HTTP with console sessions: each user sees only what its
// role and party may see, reads and read-all change the unread count, new
// items are pushed on the live stream to their user only; and webhook
// endpoints refuse bad input with a clear problem.

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies by field.
type Body = any;

let db: Database;
let ctx: ServiceContext;
let server: TestServer;
let tenant: string;
let admin_key: string;
const password = "a long enough password";
const sessions: Record<"a" | "b" | "finance", { cookie: string; csrf: string }> = {} as never;

async function loginAs(login: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${server.url}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant_id: tenant, login, password }),
  });
  expect(response.status).toBe(200);
  const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]!);
  const body = (await response.json()) as { csrf_token: string };
  return { cookie: cookies.join("; "), csrf: body.csrf_token };
}

async function as(who: keyof typeof sessions, method: string, path: string, body?: unknown) {
  const session = sessions[who];
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      "x-csrf-token": session.csrf,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Body,
    type: response.headers.get("content-type"),
  };
}

/** Reads a user's live stream from the start for a moment. */
async function streamText(who: keyof typeof sessions): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/v1/events/stream?last_event_id=0`, {
    headers: { cookie: sessions[who].cookie },
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  let text = "";
  const timer = setTimeout(() => controller.abort(), 600);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch {
    // Aborted: enough read.
  } finally {
    clearTimeout(timer);
  }
  return text;
}

beforeAll(async () => {
  delete process.env.CLEARSPLIT_WEBHOOK_ALLOW_PRIVATE;
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx, "inbox");
  for (const id of ["m-a", "m-b"]) await createParty(ctx, tenant, { id, kind: "merchant", name: id });
  const audit = { actor: "test", ip: null };
  await createUser(
    ctx,
    tenant,
    { role: "merchant", party_id: "m-a", email: "a@example.com", password },
    audit,
  );
  await createUser(
    ctx,
    tenant,
    { role: "merchant", party_id: "m-b", email: "b@example.com", password },
    audit,
  );
  await createUser(ctx, tenant, { role: "finance", email: "fin@example.com", password }, audit);
  admin_key = (await createApiKey(ctx, tenant, { name: "admin", role: "platform_admin" })).key;
  server = await startTestServer(ctx, admin_key);
  sessions.a = await loginAs("a@example.com");
  sessions.b = await loginAs("b@example.com");
  sessions.finance = await loginAs("fin@example.com");
  await emit(ctx, tenant, [
    {
      type: "order.booked",
      party_ids: ["m-a"],
      payload: { order_id: "A-1", currency: "CNY", paid_minor: 100 },
    },
    {
      type: "order.booked",
      party_ids: ["m-a"],
      payload: { order_id: "A-2", currency: "CNY", paid_minor: 200 },
    },
    {
      type: "order.booked",
      party_ids: ["m-b"],
      payload: { order_id: "B-1", currency: "CNY", paid_minor: 300 },
    },
    {
      type: "payout.failed",
      party_ids: ["m-b"],
      payload: { payout_id: "P-B", currency: "CNY", amount_minor: 300 },
    },
    { type: "someone.elses_future_type" as EventType, party_ids: ["m-a"], payload: { note: "generic" } },
  ]);
  await dispatchUntil(ctx, tenant, testDeps(), async () => {
    const rows = await db.query("SELECT 1 FROM inbox_items WHERE tenant_id = $1", [tenant]);
    return rows.length >= 4;
  });
}, 240_000);

afterAll(async () => {
  await server.close();
  await db.close();
});

describe("inbox", () => {
  it("shows each user only what its role and party may see, newest first, with an unread count", async () => {
    const a = await as("a", "GET", "/v1/inbox");
    expect(a.status).toBe(200);
    expect(a.body.items.map((item: Body) => item.data.order_id)).toEqual(["A-2", "A-1"]);
    expect(a.body.unread_count).toBe(2);
    expect(JSON.stringify(a.body)).not.toContain("B-1");
    const b = await as("b", "GET", "/v1/inbox");
    expect(b.body.items.map((item: Body) => item.type)).toEqual(["payout.failed", "order.booked"]);
    expect(JSON.stringify(b.body)).not.toContain("A-1");
    // Finance is told of the payout failure (by default), not of every booking.
    const finance = await as("finance", "GET", "/v1/inbox");
    expect(finance.body.items.map((item: Body) => item.type)).toEqual(["payout.failed"]);
    // A type nobody described yet reaches no one but platform administrators (none here).
    expect(JSON.stringify([a.body, b.body, finance.body])).not.toContain("elses_future_type");
  });

  it("pages with an opaque cursor", async () => {
    const first = await as("a", "GET", "/v1/inbox?limit=1");
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next_cursor).toBeTypeOf("string");
    const second = await as("a", "GET", `/v1/inbox?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect(second.body.next_cursor).toBeNull();
    const bad = await as("a", "GET", "/v1/inbox?cursor=bm9wZQ");
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("cursor_invalid");
  });

  it("marks one item read, refuses another user's item, and marks all read", async () => {
    const a = await as("a", "GET", "/v1/inbox");
    const id = a.body.items[0].id;
    expect((await as("b", "POST", `/v1/inbox/${id}/read`)).status).toBe(404);
    const read = await as("a", "POST", `/v1/inbox/${id}/read`);
    expect(read.status).toBe(200);
    expect((await as("a", "GET", "/v1/inbox")).body.unread_count).toBe(1);
    expect((await as("a", "GET", "/v1/inbox?unread=true")).body.items).toHaveLength(1);
    const all = await as("a", "POST", "/v1/inbox/read-all");
    expect(all.body.updated).toBe(1);
    expect((await as("a", "GET", "/v1/inbox")).body.unread_count).toBe(0);
  });

  it("pushes new items on the live stream to their own user only", async () => {
    // The items' stream events were written by the dispatcher's last round; number them as serve's sequencer would.
    await sequenceEventsOnce(ctx);
    const a_items = (await as("a", "GET", "/v1/inbox")).body.items.map((item: Body) => item.id);
    const a_stream = await streamText("a");
    const b_stream = await streamText("b");
    expect(a_stream).toContain("event: inbox.item_created");
    for (const id of a_items) {
      expect(a_stream).toContain(id);
      expect(b_stream).not.toContain(id);
    }
  });

  it("sends a test notification to the caller's inbox and mail", async () => {
    const sent = await as("a", "POST", "/v1/notifications/test", {});
    expect(sent.status).toBe(202);
    expect(sent.body.inbox_item_id).toBeTypeOf("string");
    expect(sent.body.email_id).toBeTypeOf("string");
    const inbox = await as("a", "GET", "/v1/inbox");
    expect(inbox.body.items[0]).toMatchObject({ id: sent.body.inbox_item_id, type: "notification.test" });
  });

  it("keeps preferences per user and refuses unknown types", async () => {
    const set = await as("a", "PUT", "/v1/notifications/preferences", {
      language: "en",
      preferences: [{ event_type: "order.booked", delivery: "digest" }],
    });
    expect(set.status).toBe(200);
    expect(set.body.language).toBe("en");
    expect(set.body.preferences.find((p: Body) => p.event_type === "order.booked")).toMatchObject({
      delivery: "digest",
      default: "inbox",
      overridden: true,
    });
    const bad = await as("a", "PUT", "/v1/notifications/preferences", {
      preferences: [{ event_type: "no.such_type", delivery: "inbox" }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe("event_type_unknown");
  });
});

describe("webhook endpoint input", () => {
  const create = (body: unknown) => server.call("POST", "/v1/webhook-endpoints", { body });

  it.each([
    ["not a url", "webhook_url_invalid"],
    ["ftp://example.com/hook", "webhook_url_invalid"],
    ["https://user:pw@example.com/hook", "webhook_url_invalid"],
    ["http://127.0.0.1:8080/hook", "webhook_url_private"],
    ["http://10.1.2.3/hook", "webhook_url_private"],
    ["http://169.254.169.254/latest/meta-data", "webhook_url_private"],
    ["http://[::1]/hook", "webhook_url_private"],
    ["http://[::ffff:127.0.0.1]/hook", "webhook_url_private"],
    ["http://localhost/hook", "webhook_url_private"],
  ])("refuses %s with %s", async (url, code) => {
    const response = await create({ url, event_types: ["order.booked"] });
    expect(response.status).toBe(code === "webhook_url_private" ? 422 : 400);
    expect(response.body.code).toBe(code);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
  });

  it("refuses an unknown event type, an empty list and an over-long list", async () => {
    const url = "https://93.184.215.14/hook";
    const unknown = await create({ url, event_types: ["order.booked", "order.exploded"] });
    expect(unknown.body.code).toBe("event_type_unknown");
    expect(unknown.body.detail).toContain("order.exploded");
    expect((await create({ url, event_types: [] })).body.code).toBe("event_types_empty");
    const long = await create({ url, event_types: Array.from({ length: 51 }, () => "order.booked") });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe("event_types_too_many");
  });

  it("creates an endpoint with a whsec_ secret shown once, and lists it without the secret", async () => {
    const created = await create({
      url: "https://93.184.215.14/hook",
      event_types: ["order.booked", "payout.failed"],
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const list = await server.call("GET", "/v1/webhook-endpoints");
    expect(list.body.items.map((item: Body) => item.id)).toContain(created.body.id);
    expect(JSON.stringify(list.body)).not.toContain("whsec_");
  });
});
