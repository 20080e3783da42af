import build from "fast-json-stringify";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { toJsonText } from "../core/json.ts";
import { createApiKey, listApiKeys } from "../service/auth/api-keys.ts";
import { listUsersPage } from "../service/auth/users.ts";
import type { ServiceContext } from "../service/context.ts";
import { refundOrder } from "../service/orders/order-lifecycle.ts";
import { getOrderDetail, listOrders } from "../service/orders/order-reads.ts";
import { getParty, listParties, partyEntries } from "../service/parties/party-reads.ts";
import { getPolicy, listAssignments, listPolicies } from "../service/policies.ts";
import type { Database } from "../store/database.ts";
import { newTestTenant, openTestDatabase } from "../testing/db.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";
import { buildApp } from "./app.ts";
import { declaredComponents, type JsonSchema } from "./components.ts";
import { pageSchema } from "./schemas.ts";

// Where a response is serialized from its schema (fast-json-stringify, as
// Fastify does by default), a field the schema does not name is dropped. For
// each main resource this compares what the HTTP API answers, the service's own
// object, and that answer serialized through its documented schema: all three
// must be equal, so the document names every field (issue 13 §3).

let db: Database;
let app: FastifyInstance;
let ctx: ServiceContext;
let tenant: string;
let key: string;
const order_id = issue_order.id;

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
  tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant);
  key = (await createApiKey(ctx, tenant, { name: "admin", role: "platform_admin" })).key;
  app = await buildApp({ ctx });
  expect((await get("/v1/orders", "POST", issue_order)).status).toBe(201);
}, 120_000);
afterAll(async () => {
  await app.close();
  await db.close();
});

async function get(url: string, method: "GET" | "POST" = "GET", payload?: object) {
  const response = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });
  return { status: response.statusCode, body: response.json() as unknown };
}

/** `value` serialized through `schema` by fast-json-stringify, with every component resolvable. */
function schemaSerialized(schema: object, value: unknown): unknown {
  const components: Record<string, JsonSchema> = {};
  for (const [name, component] of declaredComponents()) components[name] = component;
  const stringify = build(schema as never, { schema: components as never });
  return JSON.parse(stringify(value));
}

const ref = (name: string) => ({ $ref: `${name}#` });
const everything = () => ({ tenant_id: tenant, party_id: null });

describe("responses serialized from their schemas", () => {
  const cases: [string, string, object, () => Promise<unknown>][] = [
    [
      "OrderDetail",
      `/v1/orders/${order_id}`,
      ref("OrderDetail"),
      () => getOrderDetail(db, everything(), order_id),
    ],
    [
      "OrderSummary page",
      "/v1/orders",
      pageSchema(ref("OrderSummary")),
      () => listOrders(db, everything(), {}),
    ],
    ["Party", "/v1/parties/m-1001", ref("Party"), () => getParty(db, everything(), "m-1001")],
    ["Party page", "/v1/parties", pageSchema(ref("Party")), () => listParties(db, everything(), {})],
    [
      "Entry page",
      "/v1/parties/m-1001/entries",
      pageSchema(ref("Entry")),
      () => partyEntries(db, everything(), "m-1001", {}),
    ],
    ["Policy page", "/v1/policies", pageSchema(ref("Policy")), () => listPolicies(db, tenant)],
    [
      "PolicyAssignment page",
      "/v1/policy-assignments",
      pageSchema(ref("PolicyAssignment")),
      () => listAssignments(db, tenant, {}),
    ],
    [
      "ApiKey page",
      "/v1/api-keys",
      pageSchema(ref("ApiKey")),
      () => listApiKeys(db, tenant, { include_revoked: false }),
    ],
    ["User page", "/v1/users", pageSchema(ref("User")), () => listUsersPage(db, tenant, {})],
  ];
  for (const [name, url, schema, service] of cases)
    it(`${name}: the API's answer, the service's object and the schema-serialized answer are equal`, async () => {
      const response = await get(url);
      expect(response.status).toBe(200);
      const service_json = JSON.parse(toJsonText(await service()));
      expect(response.body).toEqual(service_json);
      expect(schemaSerialized(schema, response.body)).toEqual(response.body);
    });

  it("Policy by hash, and a refund and a chargeback with their order, keep every field", async () => {
    const policy = (await get("/v1/policies")).body as { items: { hash: string }[] };
    const hash = policy.items[0]!.hash;
    const one = await get(`/v1/policies/${hash}`);
    expect(one.body).toEqual(JSON.parse(toJsonText(await getPolicy(db, tenant, hash))));
    expect(schemaSerialized(ref("Policy"), one.body)).toEqual(one.body);

    for (const [path, kind, component] of [
      ["refunds", "refund", "Refund"],
      ["chargebacks", "chargeback", "Chargeback"],
    ] as const) {
      const request = { refund_id: `${kind}-1`, amount_minor: 1000 };
      const booked = await get(`/v1/orders/${order_id}/${path}`, "POST", request);
      expect(booked.status).toBe(201);
      // The same request again is the service's replay of the same objects.
      const replay = await refundOrder(ctx, tenant, order_id, request, kind);
      expect(booked.body).toEqual(JSON.parse(toJsonText({ order: replay.order, refund: replay.refund })));
      const schema = { type: "object", properties: { order: ref("OrderView"), refund: ref(component) } };
      expect(schemaSerialized(schema, booked.body)).toEqual(booked.body);
    }
  });
});
