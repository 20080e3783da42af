import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { newId } from "../../core/ids.ts";
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { buildApp } from "../app.ts";

// Issue 12 §6 through real HTTP: console users managed over the API, keys
// issued for a user, parties deactivated, and policy assignments listed.

let db: Database;
let app: FastifyInstance;
let ctx: ServiceContext;
let tenant: string;
let admin: string;
const password = "correct horse battery";

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant);
  admin = (await createApiKey(ctx, tenant, { name: "admin", role: "platform_admin" })).key;
  app = await buildApp({ ctx });
}, 120_000);
afterAll(async () => {
  await app.close();
  await db.close();
});

function call(method: "GET" | "POST" | "PATCH" | "PUT", url: string, payload?: object, key = admin) {
  return app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });
}

function logIn(login: string) {
  return app.inject({
    method: "POST",
    url: "/v1/auth/login",
    payload: { tenant_id: tenant, login, password },
  });
}

describe("users over the API", () => {
  it("creates, lists and changes users as security events; a disabled user cannot log in and its sessions end", async () => {
    const login = `u-${newId()}@example.com`;
    const created = await call("POST", "/v1/users", {
      login,
      password,
      role: "merchant",
      party_id: "m-1001",
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({ email: login, role: "merchant", party_id: "m-1001", disabled_at: null });

    const session = await logIn(login);
    expect(session.statusCode).toBe(200);
    const cookie = (session.headers["set-cookie"] as string[]).map((line) => line.split(";")[0]).join("; ");
    const me = await app.inject({ method: "GET", url: "/v1/auth/me", headers: { cookie } });
    expect(me.json().role).toBe("merchant");

    const page = await call("GET", "/v1/users?limit=1");
    expect(page.statusCode).toBe(200);
    expect(page.json().items).toHaveLength(1);
    const ids: string[] = [];
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const next = await call("GET", `/v1/users?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`);
      ids.push(...next.json().items.map((item: { id: string }) => item.id));
      cursor = next.json().next_cursor;
    }
    expect(ids).toContain(user.id);

    const promoted = await call("PATCH", `/v1/users/${user.id}`, { role: "finance", party_id: null });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json()).toMatchObject({ role: "finance", party_id: null });
    // A role change ends the user's sessions.
    expect((await app.inject({ method: "GET", url: "/v1/auth/me", headers: { cookie } })).statusCode).toBe(
      401,
    );

    const disabled = await call("PATCH", `/v1/users/${user.id}`, { disabled: true });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json().disabled_at).not.toBeNull();
    expect((await logIn(login)).statusCode).toBe(401);

    const enabled = await call("PATCH", `/v1/users/${user.id}`, { disabled: false });
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json().disabled_at).toBeNull();
    expect((await logIn(login)).statusCode).toBe(200);

    const events = await call("GET", "/v1/security-events");
    const actions = events
      .json()
      .items.filter((event: { subject: string | null }) => event.subject === `user:${user.id}`)
      .map((event: { action: string }) => event.action);
    for (const action of ["user_created", "user_role_changed", "user_disabled", "user_enabled"])
      expect(actions).toContain(action);
  });

  it("answers 404 for an unknown user, 403 to any role but platform_admin, and 422 for a merchant without a party", async () => {
    expect((await call("PATCH", `/v1/users/${newId()}`, { disabled: true })).statusCode).toBe(404);
    const finance = (await createApiKey(ctx, tenant, { name: "finance", role: "finance" })).key;
    expect((await call("GET", "/v1/users", undefined, finance)).statusCode).toBe(403);
    const merchant = await call("POST", "/v1/users", {
      login: `m-${newId()}@example.com`,
      password,
      role: "merchant",
    });
    expect(merchant.json().code).toBe("party_required");
  });

  it("issues an API key for a user: the key acts as that user, and stops when the user is disabled", async () => {
    const user = (
      await call("POST", "/v1/users", { login: `k-${newId()}@example.com`, password, role: "reviewer" })
    ).json();
    const created = await call("POST", "/v1/api-keys", { name: "for a person", user_id: user.id });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().api_key).toMatchObject({ user_id: user.id, role: "reviewer" });
    const key = created.json().key as string;
    const me = await call("GET", "/v1/auth/me", undefined, key);
    expect(me.json(), me.body).toMatchObject({ role: "reviewer", user_id: user.id });
    await call("PATCH", `/v1/users/${user.id}`, { disabled: true });
    expect((await call("GET", "/v1/auth/me", undefined, key)).statusCode).toBe(401);
  });
});

describe("parties and policy assignments", () => {
  it("deactivates a party: a new order naming it is 422 party_inactive and writes nothing; reactivated, it books", async () => {
    const inactive = await call("PATCH", "/v1/parties/s-9", { status: "inactive" });
    expect(inactive.statusCode, inactive.body).toBe(200);
    expect(inactive.json().status).toBe("inactive");
    expect((await call("GET", "/v1/parties/s-9")).json().status).toBe("inactive");

    const id = `INACTIVE-${newId()}`;
    const refused = await call("POST", "/v1/orders", { ...issue_order, id });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: "party_inactive", field: "lines[0].supplier_id" });
    expect((await call("GET", `/v1/orders/${id}`)).statusCode).toBe(404);

    const active = await call("PATCH", "/v1/parties/s-9", { status: "active" });
    expect(active.json().status).toBe("active");
    expect((await call("POST", "/v1/orders", { ...issue_order, id })).statusCode).toBe(201);
  });

  it("lists policy assignments in cursor pages", async () => {
    const hash = (await call("GET", "/v1/policy-assignments")).json().items[0].policy_hash as string;
    for (const category of ["a", "b"])
      expect(
        (
          await call("PUT", "/v1/policy-assignments", {
            scope: "category",
            scope_value: `${category}-${newId()}`,
            policy_hash: hash,
            effective_from: "2021-01-01T00:00:00Z",
          })
        ).statusCode,
      ).toBe(200);
    const first = (await call("GET", "/v1/policy-assignments?limit=2")).json();
    expect(first.items).toHaveLength(2);
    expect(first.next_cursor).not.toBeNull();
    const second = (await call("GET", `/v1/policy-assignments?limit=2&cursor=${first.next_cursor}`)).json();
    expect(second.items).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((item: { id: string }) => item.id)).size).toBe(3);
    expect((await call("GET", "/v1/policy-assignments?scope=tenant")).json().items).toHaveLength(1);
  });
});
