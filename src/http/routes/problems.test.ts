import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { error_catalogue } from "../../core/error-catalogue.ts";
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { buildApp } from "../app.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("problem type URIs", () => {
  it("resolve, without a key, to the documentation of the code the problem carries", async () => {
    const app = await buildApp({ ctx: { db, now: () => new Date() } });
    const refused = await app.inject({ url: "/v1/orders" });
    expect(refused.statusCode).toBe(401);
    const body = refused.json();
    expect(body).toMatchObject({
      type: "/problems/unauthorized",
      code: "unauthorized",
      title: "Unauthorized",
    });

    const page = await app.inject({ url: body.type });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("<code>unauthorized</code>");
    expect(page.body).toContain(error_catalogue.unauthorized.meaning);

    const as_json = await app.inject({
      url: "/problems/order_not_found",
      headers: { accept: "application/json" },
    });
    expect(as_json.json()).toEqual({ code: "order_not_found", ...error_catalogue.order_not_found });

    const index = await app.inject({ url: "/problems", headers: { accept: "application/json" } });
    expect(index.json().items).toHaveLength(Object.keys(error_catalogue).length);

    const missing = await app.inject({ url: "/problems/no_such_code" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: "not_found", type: "/problems/not_found" });
    await app.close();
  });

  it("carry the catalogue's status and title for errors raised by Fastify itself", async () => {
    const ctx = { db, now: () => new Date() };
    const app = await buildApp({ ctx });
    // Credentials are checked before the body is read, so the caller is a real one.
    const tenant = await newTestTenant(ctx, "problems");
    const { key } = await createApiKey(ctx, tenant, { name: "problems", role: "platform_admin" });
    const response = await app.inject({
      method: "POST",
      url: "/v1/orders",
      payload: "{",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    });
    expect(response.statusCode).toBe(error_catalogue.json_invalid.status);
    expect(response.json()).toMatchObject({
      code: "json_invalid",
      title: error_catalogue.json_invalid.title,
      type: "/problems/json_invalid",
    });
    await app.close();
  });
});
