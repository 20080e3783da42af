import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { isDomainError } from "../../core/errors.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { Actor } from "../audit/actor.ts";
import { flagOrder } from "../audit/cases.ts";
import { createAuditConfigDraft, publishAuditConfig } from "../audit/configs.ts";
import { decideCase } from "../audit/decide-case.ts";
import { raiseAuditHit } from "../audit/hits.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { completeOrder, releaseDue, releaseOrder } from "../orders/order-lifecycle.ts";
import { getOrderDetail } from "../orders/order-reads.ts";
import { partyBalances } from "../parties/party-reads.ts";
import { runSettlement } from "./settlement-run.ts";

// Audit × settlement (issues 14 and 15): an open case on an order keeps that
// order's funds out of every payout; an open party-level case holds the whole
// party (no payout, and the orders it is the merchant of are not released);
// each flows again, exactly once, after the case is approved.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const day_ms = 86_400_000;
const finance: Actor = { actor: "user:fin", person: "user:fin", role: "finance" };
const reviewer: Actor = { actor: "user:rev", person: "user:rev", role: "reviewer" };

async function world() {
  const clock = testClock("2026-11-25T10:00:00Z");
  const ctx: ServiceContext = { db, now: clock.now };
  const tenant = await newTestTenant(ctx, "holds");
  await seedExampleMarketplace(ctx, tenant, 60_000);
  // One reviewer decides alone: the threshold is above every amount here.
  const draft = await createAuditConfigDraft(
    ctx,
    tenant,
    { name: "holds", body: { four_eyes_minor: 1_000_000_000, rules: [] } },
    finance,
  );
  await publishAuditConfig(ctx, tenant, draft.id, finance);
  return { ctx, clock, tenant, scope: { tenant_id: tenant, party_id: null } };
}

async function available(ctx: ServiceContext, tenant: string, party: string): Promise<bigint> {
  const [row] = await partyBalances(ctx.db, { tenant_id: tenant, party_id: null }, party);
  return row?.available_minor ?? 0n;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    return isDomainError(error) ? error.code : String(error);
  }
}

describe("audit holds stop settlement", () => {
  it("an open case on a released order keeps its funds out of the payout until approved", async () => {
    const { ctx, clock, tenant } = await world();
    await bookOrders(ctx, tenant, [order_json]);
    await completeOrder(ctx, tenant, order_json.id);
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    const merchant_available = await available(ctx, tenant, "m-1001");
    expect(merchant_available > 0n).toBe(true);
    // Finance flags the order after its release: its entries must not leave.
    const flagged = await flagOrder(ctx, tenant, { order_id: order_json.id, reason: "check" }, finance);
    clock.advance(day_ms);
    const held = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(held.paid).toEqual([]);
    expect(held.carried_over).toEqual([]);
    expect(await available(ctx, tenant, "m-1001")).toBe(merchant_available);
    await expectLedgerInvariants(db, tenant);
    await decideCase(ctx, tenant, flagged.id, { decision: "approve", reason: "fine" }, reviewer);
    // The same day's run again: nothing was recorded for the cycle, so it pays now, once.
    const paid = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(paid.paid.find((item) => item.party_id === "m-1001")?.amount_minor).toBe(merchant_available);
    const again = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(again.paid).toEqual([]);
    expect(await available(ctx, tenant, "m-1001")).toBe(0n);
    await expectLedgerInvariants(db, tenant);
  });

  it("a party-level case stops the party's payouts and releases, and both resume after approval", async () => {
    const { ctx, clock, tenant, scope } = await world();
    // A first order, released before the hold: available funds the hold must keep in.
    await bookOrders(ctx, tenant, [order_json]);
    await completeOrder(ctx, tenant, order_json.id);
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    const before_hold = await available(ctx, tenant, "m-1001");
    const raised = await ctx.db.transaction((tx) =>
      raiseAuditHit(
        tx,
        tenant,
        {
          rule_id: "merchant_debt_over_limit",
          order_id: null,
          party_id: "m-1001",
          amount_minor: 250_000n,
          currency: "CNY",
          reason: "merchant m-1001 owes 250000 CNY, over the limit of 100000",
          inputs: { merchant_id: "m-1001", debt_minor: 250_000, limit_minor: 100_000 },
          dedupe_key: "merchant_debt_over_limit:party:m-1001:test",
        },
        { config_hash: null, actor: "system:audit" },
        ctx.now(),
      ),
    );
    const case_id = raised!.case_id;
    // A second order of the held merchant: completed and due, but not released.
    const second = { ...order_json, id: "WST-HELD-2", psp: { ...order_json.psp, reference: "42-held-2" } };
    await bookOrders(ctx, tenant, [second]);
    await completeOrder(ctx, tenant, second.id);
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(0);
    expect(await codeOf(releaseOrder(ctx, tenant, second.id))).toBe("order_blocked_by_case");
    expect((await getOrderDetail(db, scope, second.id)).blocked_by_case).toEqual({ case_ids: [case_id] });
    expect((await getOrderDetail(db, scope, order_json.id)).blocked_by_case).toEqual({ case_ids: [case_id] });
    clock.advance(day_ms);
    const held = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(held.held_by_case).toEqual([{ party_id: "m-1001", currency: "CNY", case_ids: [case_id] }]);
    expect(held.paid.some((item) => item.party_id === "m-1001")).toBe(false);
    // Other parties of the released order are not held by the merchant's case.
    expect(held.paid.length > 0).toBe(true);
    expect(await available(ctx, tenant, "m-1001")).toBe(before_hold);
    await expectLedgerInvariants(db, tenant);

    // The party-level case parked its merchant's due order; its decision unparks it (decisions §45).
    const parked = () =>
      ctx.db.query<{ id: string }>("SELECT id FROM orders WHERE tenant_id = $1 AND release_parked", [tenant]);
    expect((await parked()).map((row) => row.id)).toEqual([second.id]);
    await decideCase(ctx, tenant, case_id, { decision: "approve", reason: "debt settled" }, reviewer);
    expect(await parked()).toEqual([]);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    const after_release = await available(ctx, tenant, "m-1001");
    expect(after_release > before_hold).toBe(true);
    clock.advance(day_ms);
    const paid = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(paid.held_by_case).toEqual([]);
    expect(paid.paid.find((item) => item.party_id === "m-1001")?.amount_minor).toBe(after_release);
    expect(await available(ctx, tenant, "m-1001")).toBe(0n);
    await expectLedgerInvariants(db, tenant);
  });
});
