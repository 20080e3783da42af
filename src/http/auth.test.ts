import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../service/auth/api-keys.ts";
import { createUser, disableUser } from "../service/auth/users.ts";
import { createParty } from "../service/ledger/accounts.ts";
import type { Database, Queryable, Row } from "../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../testing/db.ts";
import { buildApp } from "./app.ts";

let db: Database;
let app: FastifyInstance;
const clock = testClock();
let tenant: string;
const password = "correct horse battery staple";
// Login throttling by IP is global, not per tenant: each run uses its own addresses.
const net = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
beforeAll(async () => {
  db = await openTestDatabase();
  const ctx = { db, now: clock.now };
  app = await buildApp({ ctx });
  tenant = await newTestTenant(ctx, "auth");
  await createParty(ctx, tenant, { id: "m1", kind: "merchant", name: "M1" });
  await createUser(
    ctx,
    tenant,
    { role: "merchant", party_id: "m1", email: "m1@example.com", password },
    { actor: "test", ip: null },
  );
  await createUser(
    ctx,
    tenant,
    { role: "platform_admin", email: "admin@example.com", password },
    { actor: "test", ip: null },
  );
});
afterAll(async () => {
  await app.close();
  await db.close();
});

function cookiesOf(response: { headers: Record<string, unknown> }): Record<string, string> {
  const raw = response.headers["set-cookie"];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  return Object.fromEntries(list.map((line: string) => line.split(";")[0]!.split("=") as [string, string]));
}

async function loginAs(email: string, extra: Record<string, string> = {}, ip = `${net}.1`) {
  return app.inject({
    method: "POST",
    url: "/v1/auth/login",
    remoteAddress: ip,
    headers: extra,
    payload: { tenant_id: tenant, login: email, password },
  });
}

describe("console sessions", () => {
  it("logs in with HttpOnly SameSite=Lax cookies, answers /me from the cookie, and logs out", async () => {
    const response = await loginAs("M1@example.com");
    expect(response.statusCode).toBe(200);
    const set_cookie = response.headers["set-cookie"] as string[];
    const session_line = set_cookie.find((line) => line.startsWith("cs_session="))!;
    expect(session_line).toContain("HttpOnly");
    expect(session_line).toContain("SameSite=Lax");
    expect(session_line).not.toContain("Secure");
    expect(set_cookie.find((line) => line.startsWith("cs_csrf="))).not.toContain("HttpOnly");
    const cookies = cookiesOf(response);
    const cookie = `cs_session=${cookies.cs_session}; cs_csrf=${cookies.cs_csrf}`;
    const me = await app.inject({ url: "/v1/auth/me", headers: { cookie } });
    expect(me.json()).toMatchObject({ tenant_id: tenant, role: "merchant", party_id: "m1" });
    // The stored row holds hashes only.
    const rows = await db.query<{ token_sha256: string }>(
      "SELECT token_sha256 FROM sessions WHERE tenant_id = $1",
      [tenant],
    );
    expect(JSON.stringify(rows)).not.toContain(cookies.cs_session!);
    const out = await app.inject({
      method: "POST",
      url: "/v1/auth/logout",
      headers: { cookie, "x-csrf-token": cookies.cs_csrf!, origin: "http://localhost:80" },
    });
    expect(out.statusCode).toBe(204);
    expect((await app.inject({ url: "/v1/auth/me", headers: { cookie } })).statusCode).toBe(401);
  });

  it("rotates on login: the browser's previous session ends, and a tampered cookie is refused", async () => {
    const first = cookiesOf(await loginAs("m1@example.com"));
    const second = cookiesOf(await loginAs("m1@example.com", { cookie: `cs_session=${first.cs_session}` }));
    expect(second.cs_session).not.toBe(first.cs_session);
    expect(
      (await app.inject({ url: "/v1/auth/me", headers: { cookie: `cs_session=${first.cs_session}` } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await app.inject({ url: "/v1/auth/me", headers: { cookie: `cs_session=${second.cs_session}` } }))
        .statusCode,
    ).toBe(200);
    const token = second.cs_session!;
    const flipped = (token[0] === "A" ? "B" : "A") + token.slice(1);
    for (const bad of [flipped, `${token}x`, token.slice(1), "", "%00"]) {
      const response = await app.inject({ url: "/v1/auth/me", headers: { cookie: `cs_session=${bad}` } });
      expect(response.statusCode).toBe(401);
      expect(response.headers["content-type"]).toContain("application/problem+json");
    }
  });

  it("refuses expired, idle and disabled users' sessions", async () => {
    const cookies = cookiesOf(await loginAs("admin@example.com"));
    const cookie = `cs_session=${cookies.cs_session}`;
    clock.advance(2 * 3_600_000 + 1);
    expect((await app.inject({ url: "/v1/auth/me", headers: { cookie } })).statusCode).toBe(401);
    const fresh = `cs_session=${cookiesOf(await loginAs("admin@example.com")).cs_session}`;
    for (let hour = 0; hour < 12; hour++) {
      clock.advance(3_600_000);
      const status = (await app.inject({ url: "/v1/auth/me", headers: { cookie: fresh } })).statusCode;
      expect(status).toBe(hour < 11 ? 200 : 401);
    }
    const ctx = { db, now: clock.now };
    const user = await createUser(
      ctx,
      tenant,
      { role: "finance", email: "f@example.com", password },
      { actor: "test", ip: null },
    );
    const finance = `cs_session=${cookiesOf(await loginAs("f@example.com")).cs_session}`;
    expect((await app.inject({ url: "/v1/auth/me", headers: { cookie: finance } })).statusCode).toBe(200);
    await disableUser(ctx, tenant, user.id, { actor: "test", ip: null });
    expect((await app.inject({ url: "/v1/auth/me", headers: { cookie: finance } })).statusCode).toBe(401);
    expect((await loginAs("f@example.com")).statusCode).toBe(401);
  });

  it("rejects cookie writes without the CSRF token, with a wrong one, or from a foreign origin; Bearer writes need none", async () => {
    const cookies = cookiesOf(await loginAs("admin@example.com"));
    const cookie = `cs_session=${cookies.cs_session}; cs_csrf=${cookies.cs_csrf}`;
    const create = (headers: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: "/v1/api-keys",
        headers: { cookie, ...headers },
        payload: { name: "k", role: "auditor" },
      });
    const other = cookiesOf(await loginAs("admin@example.com")).cs_csrf!;
    const refusals: Record<string, string>[] = [
      {},
      { "x-csrf-token": "nope" },
      // A token issued to another session, sent consistently in header and cookie.
      { "x-csrf-token": other, cookie: `cs_session=${cookies.cs_session}; cs_csrf=${other}` },
      { "x-csrf-token": cookies.cs_csrf!, origin: "https://evil.example" },
      { "x-csrf-token": cookies.cs_csrf!, referer: "https://evil.example/page" },
    ];
    for (const headers of refusals) {
      const response = await create(headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.json()).toMatchObject({ code: "csrf_rejected" });
    }
    expect(
      (await create({ "x-csrf-token": cookies.cs_csrf!, origin: "http://localhost:80" })).statusCode,
    ).toBe(201);
    expect((await create({ "x-csrf-token": cookies.cs_csrf! })).statusCode).toBe(201);
    const admin_key = (
      await createApiKey({ db, now: clock.now }, tenant, { name: "b", role: "platform_admin" })
    ).key;
    const bearer = await app.inject({
      method: "POST",
      url: "/v1/api-keys",
      headers: { authorization: `Bearer ${admin_key}`, origin: "https://evil.example" },
      payload: { name: "k", role: "auditor" },
    });
    expect(bearer.statusCode).toBe(201);
    // Reads need no token; a foreign-origin login is refused.
    expect((await app.inject({ url: "/v1/api-keys", headers: { cookie } })).statusCode).toBe(200);
    expect((await loginAs("admin@example.com", { origin: "https://evil.example" })).statusCode).toBe(403);
  });

  it("locks an account after repeated failures with 429 and Retry-After, even for the right password, then lets it in again", async () => {
    const ctx = { db, now: clock.now };
    await createUser(
      ctx,
      tenant,
      { role: "auditor", email: "a@example.com", password },
      { actor: "test", ip: null },
    );
    const attempt = (pw: string, ip: string) =>
      app.inject({
        method: "POST",
        url: "/v1/auth/login",
        remoteAddress: ip,
        payload: { tenant_id: tenant, login: "a@example.com", password: pw },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await attempt("wrong password!!", `${net}.${10 + i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const locked = await attempt(password, `${net}.99`);
    expect(locked.statusCode).toBe(429);
    expect(locked.headers["content-type"]).toContain("application/problem+json");
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect(locked.json()).toMatchObject({ code: "login_locked" });
    clock.advance(15 * 60_000 + 1);
    expect((await attempt(password, `${net}.99`)).statusCode).toBe(200);
    const audit = await db.query<{ outcome: string }>(
      "SELECT outcome FROM security_events WHERE tenant_id = $1 AND action = 'login' AND actor = 'login:a@example.com' ORDER BY id",
      [tenant],
    );
    expect(audit.map((row) => row.outcome)).toEqual([
      "failure",
      "failure",
      "failure",
      "failure",
      "failure",
      "denied",
    ]);
  });

  it("throttles one IP spraying many accounts", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 51; i++) {
      const response = await app.inject({
        method: "POST",
        url: "/v1/auth/login",
        remoteAddress: `${net}.9`,
        payload: { tenant_id: tenant, login: `nobody${i}@example.com`, password: "x" },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses.slice(0, 49).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(49)).toEqual([429, 429]);
  }, 120_000);
});

/** A Queryable that records the shape of every statement it runs. */
function tracing(inner: Database, trace: string[]): Database {
  const wrap = (q: Queryable): Queryable => ({
    query<T extends Row>(text: string, params?: readonly unknown[]) {
      trace.push(text.replace(/\s+/g, " ").trim());
      return q.query<T>(text, params);
    },
  });
  return { ...inner, ...wrap(inner), transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))) };
}

describe("bad credentials", () => {
  it("takes the same code path for an unknown key id as for a wrong secret, and for an unknown user as for a wrong password", async () => {
    const trace: string[] = [];
    const traced = buildApp({ ctx: { db: tracing(db, trace), now: clock.now } });
    const server = await traced;
    const ctx = { db, now: clock.now };
    const { key } = await createApiKey(ctx, tenant, { name: "t", role: "auditor" });
    const wrong_secret = key.slice(0, -1) + (key.endsWith("a") ? "b" : "a");
    const unknown_id = `cs_live_${"q".repeat(16)}_${key.slice(-32)}`;
    const shapes: string[][] = [];
    for (const token of [wrong_secret, unknown_id]) {
      trace.length = 0;
      const response = await server.inject({
        url: "/v1/auth/me",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ status: 401, code: "unauthorized" });
      shapes.push([...trace]);
    }
    expect(shapes[0]).toEqual(shapes[1]);
    expect(shapes[0]).toHaveLength(1);
    const login_shapes: string[][] = [];
    for (const login of ["admin@example.com", "ghost@example.com"]) {
      trace.length = 0;
      const response = await server.inject({
        method: "POST",
        url: "/v1/auth/login",
        remoteAddress: `${net}.${30 + login_shapes.length}`,
        payload: { tenant_id: tenant, login, password: "not the password" },
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      login_shapes.push([...trace]);
    }
    expect(login_shapes[0]).toEqual(login_shapes[1]);
    await server.close();
  });

  it("accepts the Bearer scheme in any case, as RFC 9110 says, and nothing else", async () => {
    const { key } = await createApiKey({ db, now: clock.now }, tenant, { name: "case", role: "finance" });
    const me = (authorization: string) => app.inject({ url: "/v1/auth/me", headers: { authorization } });
    expect((await me(`bearer ${key}`)).statusCode).toBe(200);
    expect((await me(`BEARER ${key}`)).statusCode).toBe(200);
    expect((await me(`Basic ${key}`)).statusCode).toBe(401);
    expect((await me(`Bearer${key}`)).statusCode).toBe(401);
  });

  it("refuses revoked and expired keys", async () => {
    const ctx = { db, now: clock.now };
    const revoked = await createApiKey(ctx, tenant, { name: "r", role: "finance" });
    const expiring = await createApiKey(ctx, tenant, {
      name: "e",
      role: "finance",
      expires_at: new Date(clock.now().getTime() + 60_000),
    });
    const me = (key: string) =>
      app.inject({ url: "/v1/auth/me", headers: { authorization: `Bearer ${key}` } });
    expect((await me(revoked.key)).statusCode).toBe(200);
    expect((await me(expiring.key)).statusCode).toBe(200);
    await revokeApiKey(ctx, tenant, revoked.api_key.id, "leaked");
    clock.advance(60_000);
    expect((await me(revoked.key)).statusCode).toBe(401);
    expect((await me(expiring.key)).statusCode).toBe(401);
    const audit = await db.query<{ action: string; detail: { reason?: string } }>(
      "SELECT action, detail FROM security_events WHERE tenant_id = $1 AND subject = $2 ORDER BY id",
      [tenant, `key:${revoked.api_key.id}`],
    );
    expect(audit.map((row) => row.action)).toEqual(["api_key_created", "api_key_revoked"]);
    expect(audit[1]!.detail.reason).toBe("leaked");
  });
});
