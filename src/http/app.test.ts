import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../service/auth/api-keys.ts";
import type { Database } from "../store/database.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { buildApp } from "./app.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("HTTP edge", () => {
  it("serves health, the OpenAPI 3.1 document and the docs UI without a key", async () => {
    const app = await buildApp({ ctx: { db, now: () => new Date() } });
    expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
    expect((await app.inject("/readyz")).json()).toMatchObject({ status: "ready" });
    const doc = (await app.inject("/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/healthz");
    expect((await app.inject("/docs/")).statusCode).toBe(200);
    await app.close();
  });

  it("answers unknown routes and missing or bad credentials with problem+json, the same for an unknown key and a wrong secret", async () => {
    const ctx = { db, now: () => new Date() };
    const app = await buildApp({ ctx });
    app.get("/v1/probe", async () => ({ ok: true }));
    const tenant = await newTestTenant(ctx);
    const { key } = await createApiKey(ctx, tenant, { name: "t", role: "platform_admin" });
    const wrong_secret = key.slice(0, -1) + (key.endsWith("a") ? "b" : "a");
    const unknown_id = `cs_live_${"z".repeat(16)}_${key.slice(-32)}`;
    for (const auth of [undefined, "Bearer nope", `Bearer ${wrong_secret}`, `Bearer ${unknown_id}`]) {
      const response = await app.inject({ url: "/v1/probe", headers: auth ? { authorization: auth } : {} });
      expect(response.statusCode).toBe(401);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.json()).toMatchObject({ status: 401, code: "unauthorized" });
    }
    expect(
      (await app.inject({ url: "/v1/probe", headers: { authorization: `Bearer ${key}` } })).json(),
    ).toEqual({ ok: true });
    const missing = await app.inject("/v1/nothing-here");
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: "not_found" });
    await app.close();
  });
});
