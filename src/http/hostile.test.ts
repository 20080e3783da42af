import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CursorColumn, type CursorList, encodeCursor } from "../core/page.ts";
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

  it("refuses a lone UTF-16 surrogate in a body string or key with 400, naming the field, and writes nothing", async () => {
    // A raw body: JSON.stringify would write the escapes the same way, but spelling
    // them out shows what the client sent.
    const cases: [string, string, string][] = [
      ["/v1/parties", '{"id":"p-lone","kind":"merchant","name":"a\\udfff\\ud800"}', "name"],
      ["/v1/parties", '{"id":"p-lone","kind":"merchant","name":"x","\\ud800":1}', "\ud800"],
      [
        "/v1/orders",
        '{"id":"o-lone","currency":"CNY","paid_at":"2026-11-25T10:00:00Z","merchant_id":"m-1","paid_minor":100,' +
          '"lines":[{"line_id":"1","sku":"\\udfff\\ud800","category":"c","qty":1,"unit_price_minor":100}]}',
        "lines[0].sku",
      ],
    ];
    for (const [index, [path, raw, field]] of cases.entries()) {
      const answer = await server.call("POST", path, {
        raw,
        headers: { "content-type": "application/json", "idempotency-key": `lone-${index}` },
      });
      expectProblem(answer, 400);
      expect(answer.body).toMatchObject({ code: "string_not_unicode", field });
    }
    expect((await server.call("GET", "/v1/parties/p-lone")).status).toBe(404);
    expect((await server.call("GET", "/v1/orders/o-lone")).status).toBe(404);
    // A well-formed pair (an emoji written as two escapes) is Unicode and passes this check.
    const pair = await server.call("POST", "/v1/parties", {
      raw: '{"id":"p-pair","kind":"merchant","name":"\\ud83d\\ude00"}',
      headers: { "content-type": "application/json" },
    });
    expect(pair.body).not.toMatchObject({ code: "string_not_unicode" });
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

  // No such endpoint, case or saved report: a list under one checks the page's bounds first, so a
  // bad cursor is 400 and a good one 404.
  const absent_endpoint = "00000000-0000-7000-8000-00000000e0e0";
  const absent_resource = "00000000-0000-7000-8000-00000000e0e1";
  const under_absent: CursorList[] = ["webhook_deliveries", "audit_trail", "report_runs"];
  // Every list route with its cursor's columns (core/page.ts, the one cursor encoding).
  const lists: [path: string, list: CursorList, columns: CursorColumn[]][] = [
    ["/v1/orders", "orders", ["instant", "id"]],
    ["/v1/parties", "parties", ["id"]],
    ["/v1/parties/m-1001/entries", "party_entries", ["uuid", "smallint"]],
    ["/v1/api-keys", "api_keys", ["instant", "id"]],
    ["/v1/users", "users", ["instant", "uuid"]],
    ["/v1/security-events", "security_events", ["uuid"]],
    ["/v1/policy-assignments", "assignments", ["instant", "uuid"]],
    ["/v1/audit/cases", "audit_cases", ["instant", "uuid"]],
    ["/v1/settlements/runs", "settlement_runs", ["uuid"]],
    ["/v1/reconciliation/imports", "bill_imports", ["uuid"]],
    ["/v1/log/checkpoints", "checkpoints", ["size"]],
    ["/v1/payouts", "payouts", ["uuid"]],
    ["/v1/inbox", "inbox_items", ["uuid"]],
    ["/v1/webhook-endpoints", "webhook_endpoints", ["uuid"]],
    [`/v1/webhook-endpoints/${absent_endpoint}/deliveries`, "webhook_deliveries", ["uuid"]],
    ["/v1/policies", "policies", ["instant", "uuid"]],
    ["/v1/audit/configs", "audit_configs", ["instant", "uuid"]],
    [`/v1/audit/cases/${absent_resource}/trail`, "audit_trail", ["instant", "uuid"]],
    ["/v1/disputes", "disputes", ["instant", "uuid"]],
    ["/v1/reports/saved", "saved_reports", ["instant", "uuid"]],
    [`/v1/reports/saved/${absent_resource}/runs`, "report_runs", ["instant", "uuid"]],
    [
      "/v1/reports/statement/lines/sales/proofs?party_id=m-1001&from=2026-11-01&to=2026-12-01",
      "line_proofs",
      ["uuid"],
    ],
  ];
  const good: Record<CursorColumn, string | number> = {
    uuid: "00000000-0000-7000-8000-000000000000",
    id: "x",
    instant: "2026-01-01T00:00:00.000Z",
    smallint: 0,
    size: "1",
  };
  const bad: Record<CursorColumn, unknown[]> = {
    uuid: ["garbage", 99_999, "00000000-0000-7000-8000-00000000000G", null],
    id: ["a\u0000b", 7, "", "x".repeat(200)],
    instant: ["+275760-09-13T00:00:00.000Z", "garbage", 5],
    smallint: [32_768, 99_999, -1, 1.5, "1"],
    size: ["0", "99999999999999999999", 5, "-1"],
  };
  const raw = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");
  const at = (path: string, cursor: string) => `${path}${path.includes("?") ? "&" : "?"}cursor=${cursor}`;

  it("lists every list route of the OpenAPI document here, so each is sent hostile cursors", async () => {
    const document = (await server.call("GET", "/openapi.json")).body as {
      paths: Record<
        string,
        Record<
          string,
          { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }
        >
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const routes = Object.entries(document.paths)
      .filter(([, item]) => {
        const schema = item.get?.responses["200"]?.content?.["application/json"]?.schema;
        const body = schema?.$ref ? document.components.schemas[schema.$ref.split("/").at(-1)!] : schema;
        return "next_cursor" in ((body as { properties?: object } | undefined)?.properties ?? {});
      })
      .map(([path]) => new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`));
    const missing = routes.filter((route) => !lists.some(([path]) => route.test(path.split("?")[0]!)));
    expect(missing.map(String)).toEqual([]);
  });

  it("takes back its own cursors on every list route (so the refusals below are about the cursor)", async () => {
    for (const [path, list, columns] of lists) {
      const cursor = encodeCursor(
        list,
        columns.map((column) => good[column] as string),
      );
      const response = await server.call("GET", at(path, cursor));
      // The seeded party has booked nothing yet, so its statement lines have no currency.
      const expected = list === "line_proofs" ? 422 : under_absent.includes(list) ? 404 : 200;
      expect(response.status, `${path} ${JSON.stringify(response.body)}`).toBe(expected);
    }
  });

  it("answers a crafted cursor on every list route with 400 cursor_invalid, never 500", async () => {
    for (const [path, list, columns] of lists) {
      const crafted: string[] = [
        "bm9wZQ", // "nope"
        "!!!",
        raw([]),
        raw({ list }),
        raw([list]),
        raw([list, ...columns.map((column) => good[column]), "extra"]),
        // The pre-issue-13 encodings.
        Buffer.from("00000000-0000-0000-0000-000000000000:99999").toString("base64url"),
        raw(columns.map((column) => good[column])),
        Buffer.from("00000000-0000-7000-8000-000000000000").toString("base64url"),
      ];
      // Each part out of its column's range or of the wrong type, one at a time.
      columns.forEach((column, index) => {
        for (const part of bad[column])
          crafted.push(raw([list, ...columns.map((other, i) => (i === index ? part : good[other]))]));
      });
      // A well-formed cursor of every other list.
      for (const [, other, other_columns] of lists)
        if (other !== list)
          crafted.push(
            encodeCursor(
              other,
              other_columns.map((column) => good[column] as string),
            ),
          );
      // Too long for any list: refused by the route's schema before it is decoded.
      expectProblem(await server.call("GET", at(path, "A".repeat(600))), 400);
      for (const cursor of crafted) {
        const response = await server.call("GET", at(path, encodeURIComponent(cursor)));
        expect(response.status, `${path} ${cursor} ${JSON.stringify(response.body)}`).toBe(400);
        expect(response.headers.get("content-type")).toContain("application/problem+json");
        expect(response.body.code, `${path} ${cursor}`).toBe("cursor_invalid");
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
