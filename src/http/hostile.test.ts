import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../service/auth/api-keys.ts";
import type { ServiceContext } from "../service/context.ts";
import type { Database } from "../store/database.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { startTestServer, type TestServer } from "../testing/http.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { json_depth_max } from "./hardening.ts";

// The hostile-run defects of issue 18, each as a request that used to get a
// 500 or a framework-shaped answer, now a problem+json with a 4xx status.

let db: Database;
let server: TestServer;
let key: string;
beforeAll(async () => {
  db = await openTestDatabase();
  const ctx: ServiceContext = { db, now: () => new Date() };
  const tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant);
  key = (await createApiKey(ctx, tenant, { name: "t", role: "platform_admin" })).key;
  server = await startTestServer(ctx, key);
});
afterAll(async () => {
  await server.close();
  await db.close();
});

function expectProblem(response: { status: number; body: unknown; headers: Headers }, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  expect(response.body).toMatchObject({ status });
}

/** Sends raw bytes and reads the whole answer (the server closes the connection). */
function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("end", () => resolve(text));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("hostile input at the HTTP edge", () => {
  it("refuses a NUL in a path id, a query value or a body string with 400, login included", async () => {
    expectProblem(await server.call("GET", "/v1/orders/a%00b"), 400);
    expectProblem(await server.call("GET", "/v1/parties/x%00"), 400);
    expectProblem(await server.call("GET", "/v1/orders?merchant_id=m%00"), 400);
    expectProblem(await server.call("POST", "/v1/orders/a%00/complete"), 400);
    const body = await server.call("POST", "/v1/parties", {
      body: { id: "p\u0000", kind: "merchant", name: "x" },
    });
    expectProblem(body, 400);
    expect(body.body).toMatchObject({ code: "nul_character", field: "id" });
    const login = await server.call("POST", "/v1/auth/login", {
      body: { tenant_id: "t\u0000", login: "a", password: "b" },
    });
    expectProblem(login, 400);
  });

  it("refuses deeply nested JSON with 400 on keyed and unkeyed writes alike", async () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    for (const headers of [{}, { "idempotency-key": "deep-1" }] as Record<string, string>[]) {
      for (const path of [
        "/v1/orders",
        "/v1/orders/o-1/refunds",
        "/v1/orders/o-1/chargebacks",
        "/v1/policies",
      ]) {
        const response = await server.call("POST", path, { raw: `{"a":${deep}}`, headers });
        expectProblem(response, 400);
        expect(response.body.code).toBe("json_too_deep");
      }
    }
    const ok_depth = `${"[".repeat(json_depth_max - 1)}${"]".repeat(json_depth_max - 1)}`;
    const shallow = await server.call("POST", "/v1/orders", { raw: `{"extra":${ok_depth}}` });
    expectProblem(shallow, 400);
    expect(shallow.body.code).not.toBe("json_too_deep");
  });

  it("refuses crafted cursors with 400 cursor_invalid", async () => {
    const cursors = [
      Buffer.from("00000000-0000-0000-0000-000000000000:99999").toString("base64url"),
      Buffer.from("------------------------------------:1").toString("base64url"),
      Buffer.from('["+275760-09-13T00:00:00.000Z","x"]').toString("base64url"),
      Buffer.from('["2026-01-01T00:00:00Z","a\\u0000b"]').toString("base64url"),
    ];
    for (const cursor of cursors) {
      for (const path of ["/v1/parties/m-1001/entries", "/v1/orders"]) {
        const response = await server.call("GET", `${path}?cursor=${cursor}`);
        expectProblem(response, 400);
        expect(response.body.code).toBe("cursor_invalid");
      }
    }
  });

  it("answers the framework's own errors as problem+json", async () => {
    expectProblem(await server.call("GET", "/v1/orders/%E0%A4%A"), 400);
    expectProblem(await server.call("GET", `/v1/orders/${"x".repeat(300)}`), 414);
    const malformed = await rawRequest(server.url, "GARBAGE / HTTP/1.1\r\n\r\n");
    expect(malformed).toMatch(/^HTTP\/1\.1 400/);
    expect(malformed).toContain("application/problem+json");
    const big = await rawRequest(
      server.url,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    expect(JSON.parse(big.slice(big.indexOf("\r\n\r\n") + 4))).toMatchObject({ status: 431 });
    const long_url = await rawRequest(
      server.url,
      `GET /v1/orders?x=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(long_url).toMatch(/^HTTP\/1\.1 431/);
    expectProblem(await server.call("POST", "/v1/parties", { raw: "{", headers: {} }), 400);
    const text = await fetch(`${server.url}/v1/parties`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" },
      body: "<hi/>",
    });
    expect(text.status).toBe(415);
    expect(text.headers.get("content-type")).toContain("application/problem+json");
  });

  it("authenticates before it reads the body: no key and a bad body is 401, not 400", async () => {
    for (const raw of ["{", `{"a":${"[".repeat(5_000)}`, '{"id":"x\\u0000"}']) {
      const response = await fetch(`${server.url}/v1/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: raw,
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
  });
});
