import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_cap from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import policy_json from "../../../examples/policies/b2b2c.json" with { type: "json" };
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import { bookOrders } from "../../service/orders/book.ts";
import { parseCsv } from "../../service/reports/render/csv.ts";
import { runDueReports } from "../../service/reports/saved.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";

let db: Database;
let server: TestServer;
let ctx: ServiceContext;
let clock: ReturnType<typeof testClock>;
let keys: Record<"admin" | "finance" | "merchant" | "other_merchant", string>;
let tenant: string;

beforeAll(async () => {
  db = await openTestDatabase();
  clock = testClock("2026-11-26T10:00:00Z");
  ctx = { db, now: clock.now };
  tenant = await newTestTenant(ctx, "sav");
  await seedExampleMarketplace(ctx, tenant);
  const booked = await bookOrders(ctx, tenant, [example_order, example_cap]);
  expect(booked.map((result) => result.status)).toEqual(["created", "created"]);
  const key = async (role: "platform_admin" | "finance" | "merchant", party_id: string | null) =>
    (await createApiKey(ctx, tenant, { name: role, role, party_id })).key;
  keys = {
    admin: await key("platform_admin", null),
    finance: await key("finance", null),
    merchant: await key("merchant", "m-1001"),
    other_merchant: await key("merchant", "m-2002"),
  };
  server = await startTestServer(ctx, keys.admin);
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

const legs_by_party = {
  name: "Legs by party and rule",
  definition: {
    dataset: "legs",
    dimensions: ["party_id", "rule_id"],
    measures: ["amount_minor", "orders"],
    filters: { currency: "CNY" },
    period: { from: "2026-11-01", to: "2026-12-01" },
  },
};

describe("saved custom reports", () => {
  it("refuses unknown datasets, dimensions, measures and filters by name", async () => {
    const bad = (definition: unknown) =>
      server.call("POST", "/v1/reports/saved", { body: { name: "x", definition } });
    const base = legs_by_party.definition;
    for (const [definition, field] of [
      [{ ...base, dimensions: ["party_id", "colour"] }, "definition.dimensions[1]"],
      [{ ...base, measures: ["profit_minor"] }, "definition.measures[0]"],
      [{ ...base, dataset: "widgets" }, "definition.dataset"],
      [{ ...base, dataset: "cases" }, "definition.measures[1]"],
      [{ ...base, filters: { colour: "red" } }, "definition.filters.colour"],
      [{ ...base, period: { from: "2026-12-01", to: "2026-11-01" } }, "to"],
    ] as const) {
      const response = await bad(definition);
      expect(response.status, field).toBe(400);
      expect(response.body.field, JSON.stringify(definition)).toBe(field);
      expect(response.body.code).toMatch(/report_(definition|period)_invalid/);
    }
  });

  it("saves, shares, and runs in every format; a party sees only what is its own or shared", async () => {
    const created = await server.call("POST", "/v1/reports/saved", {
      body: { ...legs_by_party, shared: true },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const json = await server.call("GET", `/v1/reports/saved/${id}/run`);
    expect(json.status).toBe(200);
    let total = 0;
    for (const item of json.body.items) total += item.amount_minor;
    expect(total).toBe(example_order.paid_minor + example_cap.paid_minor);
    const csv = await fetch(`${server.url}/v1/reports/saved/${id}/run?format=csv`, {
      headers: { authorization: `Bearer ${keys.finance}` },
    });
    const rows = parseCsv(await csv.text());
    expect(rows.length).toBe(json.body.items.length + 1);
    for (const format of ["xlsx", "pdf"]) {
      const response = await fetch(`${server.url}/v1/reports/saved/${id}/run?format=${format}&lang=zh-TW`, {
        headers: { authorization: `Bearer ${keys.admin}` },
      });
      expect(response.status, format).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(500);
    }
    // A merchant sees the platform's shared report, run under its own scope: only its own legs.
    const mine = await server.call("GET", `/v1/reports/saved/${id}/run`, { key: keys.merchant });
    expect(mine.status).toBe(200);
    expect(new Set(mine.body.items.map((item: { party_id: string }) => item.party_id))).toEqual(
      new Set(["m-1001"]),
    );
    // A private report of merchant A is invisible to merchant B (404) and to other platform users.
    const private_report = await server.call("POST", "/v1/reports/saved", {
      key: keys.merchant,
      body: { ...legs_by_party, name: "mine" },
    });
    expect(private_report.status).toBe(201);
    const other = await server.call("GET", `/v1/reports/saved/${private_report.body.id}/run`, {
      key: keys.other_merchant,
    });
    expect(other.status).toBe(404);
    const finance = await server.call("GET", `/v1/reports/saved/${private_report.body.id}`, {
      key: keys.finance,
    });
    expect(finance.status).toBe(404);
    const list = await server.call("GET", "/v1/reports/saved", { key: keys.other_merchant });
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([id]);
  });

  it("runs the payouts and cases datasets; cases are for platform roles only, payouts a party's own", async () => {
    // Two payouts (one each for two merchants) and two cases, written as settlement and audit write them.
    // This file's own tenant: other runs on a shared database book the same example order ids.
    const tenant_id = tenant;
    for (const [party_id, amount] of [
      ["m-1001", 1200],
      ["m-2002", 3400],
    ] as const)
      await db.query(
        `INSERT INTO payouts (tenant_id, id, party_id, currency, cycle_key, run_id, run_date, period_end, state,
                              eligible_minor, netted_minor, amount_minor, minimum_payout_minor, reference, created_at)
         VALUES ($1, gen_random_uuid(), $2, 'CNY', '2026-11-20', gen_random_uuid(), '2026-11-20', '2026-11-20',
                 'in_transit', $3, 0, $3, 0, 'ref-' || $2, '2026-11-20T01:00:00Z')`,
        [tenant_id, party_id, amount],
      );
    for (const [rule_ids, decided] of [
      ["{velocity,amount}", "2026-11-20T03:30:00Z"],
      ["{}", null],
    ] as const)
      await db.query(
        `INSERT INTO audit_cases (tenant_id, id, kind, state, order_id, rule_ids, amount_minor, currency,
                                  opened_at, opened_by, decided_at, updated_at)
         VALUES ($1, gen_random_uuid(), $2, $3, $4, $5::text[], 500, 'CNY', '2026-11-20T03:00:00Z', 'test', $6, now())`,
        [
          tenant_id,
          decided === null ? "manual" : "rule",
          decided === null ? "open" : "approved",
          example_order.id,
          rule_ids,
          decided,
        ],
      );
    const november = { from: "2026-11-01", to: "2026-12-01" };
    const payouts = {
      name: "Payouts by party",
      definition: {
        dataset: "payouts",
        dimensions: ["party_id", "state"],
        measures: ["amount_minor", "count"],
        period: november,
      },
      shared: true,
    };
    const saved = await server.call("POST", "/v1/reports/saved", { body: payouts });
    expect(saved.status).toBe(201);
    const all = await server.call("GET", `/v1/reports/saved/${saved.body.id}/run`);
    expect(all.body.items).toEqual([
      { currency: "CNY", party_id: "m-1001", state: "in_transit", amount_minor: 1200, count: 1 },
      { currency: "CNY", party_id: "m-2002", state: "in_transit", amount_minor: 3400, count: 1 },
    ]);
    const own = await server.call("GET", `/v1/reports/saved/${saved.body.id}/run`, { key: keys.merchant });
    expect(own.body.items.map((item: { party_id: string }) => item.party_id)).toEqual(["m-1001"]);
    const cases = {
      name: "Cases by rule",
      definition: {
        dataset: "cases",
        dimensions: ["rule_id", "state"],
        measures: ["count", "decided", "minutes_to_decision"],
        period: november,
      },
      shared: true,
    };
    const saved_cases = await server.call("POST", "/v1/reports/saved", { body: cases });
    expect(saved_cases.status).toBe(201);
    const by_rule = await server.call("GET", `/v1/reports/saved/${saved_cases.body.id}/run?format=json`);
    expect(by_rule.body.items).toEqual([
      { currency: "CNY", rule_id: "", state: "open", count: 1, decided: 0, minutes_to_decision: 0 },
      {
        currency: "CNY",
        rule_id: "amount",
        state: "approved",
        count: 1,
        decided: 1,
        minutes_to_decision: 30,
      },
      {
        currency: "CNY",
        rule_id: "velocity",
        state: "approved",
        count: 1,
        decided: 1,
        minutes_to_decision: 30,
      },
    ]);
    const csv = await fetch(`${server.url}/v1/reports/saved/${saved_cases.body.id}/run?format=csv`, {
      headers: { authorization: `Bearer ${keys.finance}` },
    });
    expect(csv.status).toBe(200);
    // A merchant may neither save nor run the cases dataset, shared or not.
    const refused = await server.call("POST", "/v1/reports/saved", { key: keys.merchant, body: cases });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "forbidden", field: "definition.dataset" });
    const run_refused = await server.call("GET", `/v1/reports/saved/${saved_cases.body.id}/run`, {
      key: keys.merchant,
    });
    expect(run_refused.status).toBe(403);
  });

  it("produces the scheduled file for the period just ended and records it", async () => {
    clock.set("2026-11-25T12:00:00Z");
    const created = await server.call("POST", "/v1/reports/saved", {
      body: {
        name: "Daily entries",
        definition: {
          dataset: "entries",
          dimensions: ["party_id", "kind"],
          measures: ["amount_minor", "count"],
          period: { relative: "previous_day" },
        },
        schedule: "daily",
        schedule_format: "csv",
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.next_run_at).toBe("2026-11-26T00:00:00.000Z");
    clock.set("2026-11-26T00:05:00Z");
    expect(await runDueReports(ctx)).toBeGreaterThanOrEqual(1);
    expect(await runDueReports(ctx)).toBe(0);
    const runs = await server.call("GET", `/v1/reports/saved/${created.body.id}/runs`);
    expect(runs.body.items).toHaveLength(1);
    expect(runs.body.items[0]).toMatchObject({
      period_from: "2026-11-25T00:00:00.000Z",
      period_to: "2026-11-26T00:00:00.000Z",
      format: "csv",
    });
    const file = await fetch(
      `${server.url}/v1/reports/saved/${created.body.id}/runs/${runs.body.items[0].id}`,
      {
        headers: { authorization: `Bearer ${keys.admin}` },
      },
    );
    const rows = parseCsv(await file.text());
    const header = rows[0]!;
    const amounts = rows.slice(1).map((row) => BigInt(row[header.indexOf("amount_minor")]!));
    // Every entry of the day, grouped: the journal balances, so the amounts sum to zero.
    expect(amounts.length).toBeGreaterThan(2);
    expect(amounts.reduce((a, b) => a + b, 0n)).toBe(0n);
    const saved = await server.call("GET", `/v1/reports/saved/${created.body.id}`);
    expect(saved.body.next_run_at).toBe("2026-11-27T00:00:00.000Z");
  });
});

describe("POST /v1/policies/{id}/simulate", () => {
  it("shows old and new shares per merchant and party for a draft, writing nothing", async () => {
    const richer = structuredClone(policy_json) as {
      rules: { id: string; by_category?: Record<string, number> }[];
    };
    const commission = richer.rules.find((rule) => rule.id === "commission")!;
    for (const category of Object.keys(commission.by_category!)) commission.by_category![category]! += 200;
    const draft = await server.call("POST", "/v1/policies", {
      body: { name: "more commission", body: richer },
    });
    expect(draft.status).toBe(201);
    const [before] = await db.query<{ count: bigint }>("SELECT count(*) AS count FROM journal_transactions");
    const result = await server.call("POST", `/v1/policies/${draft.body.id}/simulate`, {
      key: keys.finance,
      body: { from: "2026-11-01", to: "2026-12-01" },
    });
    expect(result.status).toBe(200);
    expect(result.body.orders).toBe(2);
    const platform = result.body.items.filter((item: { party_id: string }) => item.party_id === "platform");
    let difference = 0;
    for (const item of platform) difference += item.difference_minor;
    expect(difference).toBeGreaterThan(0);
    let all = 0;
    for (const item of result.body.items) all += item.difference_minor;
    expect(all).toBe(0);
    const [after] = await db.query<{ count: bigint }>("SELECT count(*) AS count FROM journal_transactions");
    expect(after!.count).toBe(before!.count);
    const csv = await fetch(`${server.url}/v1/policies/${draft.body.id}/simulate?format=csv`, {
      method: "POST",
      headers: { authorization: `Bearer ${keys.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ from: "2026-11-01", to: "2026-12-01" }),
    });
    expect(csv.status).toBe(200);
    expect(parseCsv(await csv.text()).length).toBe(result.body.items.length + 1);
    const merchant = await server.call("POST", `/v1/policies/${draft.body.id}/simulate`, {
      key: keys.merchant,
      body: { from: "2026-11-01", to: "2026-12-01" },
    });
    expect(merchant.status).toBe(403);
    const missing = await server.call("POST", "/v1/policies/00000000-0000-7000-8000-000000000000/simulate", {
      body: { from: "2026-11-01", to: "2026-12-01" },
    });
    expect(missing.status).toBe(404);
  });
});
