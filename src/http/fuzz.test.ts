import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import policy_json from "../../examples/policies/b2b2c.json" with { type: "json" };
import { roles } from "../core/auth/roles.ts";
import type { ServiceContext } from "../service/context.ts";
import { bookOrders } from "../service/orders/book.ts";
import type { Database } from "../store/database.ts";
import { markersOf, type TenantFixture, tenantFixture } from "../testing/auth-fixtures.ts";
import { openTestDatabase } from "../testing/db.ts";
import { runFuzz } from "../testing/fuzz/fuzz-run.ts";
import { fuzzRequest, routesOf } from "../testing/fuzz/requests.ts";
import { startTestServer, type TestServer } from "../testing/http.ts";
import { seedExampleMarketplace } from "../testing/marketplace.ts";

// API fuzzing against a real server on a loopback port: generated requests
// across every route of /openapi.json (FUZZ_RUNS of them; `npm run
// test:fuzz` sends 10,000, the normal suite a short pass). A failure prints
// the seed; FUZZ_SEED=<seed> replays the same requests.

const runs = Number(process.env.FUZZ_RUNS ?? 150);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let db: Database;
let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
beforeAll(async () => {
  db = await openTestDatabase();
  const ctx: ServiceContext = { db, now: () => new Date() };
  a = await tenantFixture(ctx);
  b = await tenantFixture(ctx);
  await seedExampleMarketplace(ctx, a.tenant_id);
  await bookOrders(ctx, a.tenant_id, [issue_order]);
  server = await startTestServer(ctx, a.keys.platform_admin);
}, 120_000);
afterAll(async () => {
  await server?.close();
  await db?.close();
});

describe("API fuzzing", () => {
  it(`sends about ${runs} generated requests across every route: no 5xx, problem+json errors, no leaks, refused requests write nothing`, async () => {
    process.stdout.write(`fuzz: ${runs} requests, FUZZ_SEED=${seed}\n`);
    const doc = await (await fetch(`${server.url}/openapi.json`)).json();
    const routes = routesOf(doc);
    const credentials: Record<string, string | undefined> = {
      none: undefined,
      garbage: "Bearer cs_live_nope_nope",
      basic: "Basic YWRtaW46YWRtaW4=",
      empty: "Bearer ",
      tenant_b_admin: `Bearer ${b.keys.platform_admin}`,
    };
    for (const role of roles) credentials[role] = `Bearer ${a.keys[role]}`;
    const tenant_b = [...markersOf(b.merchant_a), ...markersOf(b.merchant_b), ...markersOf(b.supplier_a)];
    const other_party = markersOf(a.merchant_b);
    const forbidden: Record<string, string[]> = {
      none: [...tenant_b, ...other_party, ...markersOf(a.merchant_a)],
      garbage: [...tenant_b, ...other_party],
      basic: [...tenant_b, ...other_party],
      empty: [...tenant_b, ...other_party],
      tenant_b_admin: [a.tenant_id, ...markersOf(a.merchant_a), ...other_party],
    };
    for (const role of roles)
      forbidden[role] = role === "merchant" || role === "supplier" ? [...tenant_b, ...other_party] : tenant_b;
    const world = {
      credentials,
      known_ids: [
        issue_order.id,
        "m-1001",
        "s-9",
        a.merchant_a.party_id,
        ...other_party,
        ...tenant_b,
        a.tenant_id,
        b.tenant_id,
      ],
      examples: {
        "POST /v1/orders": issue_order,
        "POST /v1/orders/batch": { orders: [issue_order] },
        "POST /v1/orders/{id}/refunds": { refund_id: "r-1", amount_minor: 100 },
        "POST /v1/orders/{id}/chargebacks": { refund_id: "c-1", lines: [{ line_id: "1", qty: 1 }] },
        "POST /v1/parties": { id: "p-new", kind: "merchant", name: "New" },
        "POST /v1/policies": { name: "p", body: policy_json },
        "POST /v1/api-keys": { name: "k", role: "merchant", party_id: "m-1001" },
        "POST /v1/auth/login": { tenant_id: a.tenant_id, login: "admin", password: "correct horse" },
      },
    };
    // An equal share per route, so every route is covered whatever the seed.
    const per_route = Math.ceil(runs / routes.length);
    const requests = routes.flatMap((route, i) =>
      fc.sample(fuzzRequest([route], world), { numRuns: per_route, seed: seed + i }),
    );
    // The digest reads the two tenants the credentials belong to: what a request can write.
    const report = await runFuzz(requests, {
      base_url: server.url,
      db,
      forbidden,
      tenant_ids: [a.tenant_id, b.tenant_id],
    });
    process.stdout.write(
      `fuzz: ${report.sent} answered over ${routes.length} routes; statuses ${JSON.stringify(report.by_status)}; ` +
        `${report.refused_writes_checked} refused writes left the digest unchanged\n`,
    );
    const covered = new Set(requests.map((request) => request.route));
    expect(covered.size, "every route was fuzzed").toBe(routes.length);
    expect(report.failures, `FUZZ_SEED=${seed}`).toEqual([]);
    expect(report.sent).toBe(requests.length);
  }, 3_600_000);
});
