import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";

// Issue 12, item 5: every party kind can see its own shares (the generic
// `party` role, here a referrer's and the logistics company's keys), and an
// order naming a referrer that is not a party is booked, not refused: that
// share goes to the platform with the flag referrer_unknown, and a re-read
// recomputes the same legs.

let db: Database;
let ctx: ServiceContext;
let tenant: string;
let server: TestServer;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: testClock("2026-11-25T12:00:00Z").now };
  tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant);
  const { key } = await createApiKey(ctx, tenant, { name: "mall", role: "platform_admin" });
  server = await startTestServer(ctx, key);
});
afterAll(async () => {
  await expectLedgerInvariants(db, tenant);
  await server.close();
  await db.close();
});

type LegJson = {
  party_id: string;
  role: string;
  rule_id: string;
  amount_minor: number;
  line_id?: string;
  note: string;
};
const sumOf = (legs: LegJson[]) => legs.reduce((sum, leg) => sum + leg.amount_minor, 0);

describe("unknown referrers", () => {
  it("books the unknown referrer's share to the platform, flagged, and the merchant gets what it would anyway", async () => {
    const known = await server.call("POST", "/v1/orders", { body: { ...issue_order, id: "UR-KNOWN" } });
    expect(known.status, JSON.stringify(known.body)).toBe(201);
    const response = await server.call("POST", "/v1/orders", {
      body: { ...issue_order, id: "UR-GHOST", referrers: ["r-ghost", "r-3"] },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const legs = response.body.legs as LegJson[];
    expect(response.body.flags).toContain("referrer_unknown");
    expect(sumOf(legs)).toBe(issue_order.paid_minor);
    expect(legs.map((leg) => leg.party_id)).not.toContain("r-ghost");
    const platform_referral = legs.filter((leg) => leg.party_id === "platform" && leg.rule_id === "referral");
    expect(platform_referral.map((leg) => leg.line_id)).toEqual(["1", "2"]);
    expect(platform_referral[0]!.note).toContain("level-1 referrer r-ghost");
    expect(response.body.explanation.join(" ")).toContain("r-ghost is not a party of this marketplace");
    // The merchant, the supplier and the level-2 referrer are paid as when the referrer is known.
    const amountOf = (list: LegJson[], party_id: string) =>
      sumOf(list.filter((leg) => leg.party_id === party_id && leg.rule_id !== "psp_fee"));
    for (const party_id of ["m-1001", "s-9", "r-3"])
      expect(amountOf(legs, party_id), party_id).toBe(amountOf(known.body.legs, party_id));
    // A re-read recomputes the same split, even after the referrer becomes a party.
    await server.call("POST", "/v1/parties", { body: { id: "r-ghost", kind: "referrer", name: "Late" } });
    const detail = await server.call("GET", "/v1/orders/UR-GHOST");
    expect(detail.status).toBe(200);
    expect(detail.body.legs).toEqual(legs);
    expect(detail.body.flags).toContain("referrer_unknown");
    const refund = await server.call("POST", "/v1/orders/UR-GHOST/refunds", {
      body: { refund_id: "UR-GHOST-R1", amount_minor: 10_000 },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  });

  it("still refuses an unknown merchant or supplier (422 party_unknown)", async () => {
    const response = await server.call("POST", "/v1/orders", {
      body: {
        ...issue_order,
        id: "UR-BAD-SUPPLIER",
        lines: [{ ...issue_order.lines[0], supplier_id: "s-ghost" }, issue_order.lines[1]],
      },
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: "party_unknown", field: "lines[0].supplier_id" });
  });
});

describe("the party role", () => {
  it("lets a referrer and the logistics company see their own legs of an order and nothing else", async () => {
    await server.call("POST", "/v1/orders", { body: { ...issue_order, id: "PR-1" } });
    for (const party_id of ["r-7", "logi-sf"]) {
      const { key } = await createApiKey(ctx, tenant, { name: party_id, role: "party", party_id });
      const detail = await server.call("GET", "/v1/orders/PR-1", { key });
      expect(detail.status, JSON.stringify(detail.body)).toBe(200);
      const parties = new Set((detail.body.legs as LegJson[]).map((leg) => leg.party_id));
      expect([...parties]).toEqual([party_id]);
      const text = JSON.stringify(detail.body);
      for (const other of ["s-9", "r-3", "tax-cn", "psp-wechat"])
        if (other !== party_id) expect(text).not.toContain(`"${other}"`);
      const list = await server.call("GET", "/v1/orders?limit=50", { key });
      expect(list.status).toBe(200);
      expect(list.body.items.map((item: { id: string }) => item.id)).toContain("PR-1");
      const foreign_party = await server.call("GET", "/v1/parties/m-1001/balances", { key });
      expect(foreign_party.status).toBe(404);
    }
  });

  it("refuses a party key without its party", async () => {
    await expect(createApiKey(ctx, tenant, { name: "p", role: "party" })).rejects.toMatchObject({
      code: "party_required",
    });
  });
});
