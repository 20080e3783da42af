import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { completeOrder, refundOrder, releaseDue } from "../orders/order-lifecycle.ts";
import { partyBalances } from "../parties/party-reads.ts";
import { updateParty } from "./party-profile.ts";
import { importPayoutResults } from "./payout-results.ts";
import { listPayouts, resolvePayoutResult } from "./payouts.ts";
import { runSettlement } from "./settlement-run.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const day_ms = 86_400_000;

async function releasedOrder(order_id = order_json.id) {
  const clock = testClock("2026-11-25T10:00:00Z");
  const ctx: ServiceContext = { db, now: clock.now };
  const tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant, 60_000);
  const [booked] = await bookOrders(ctx, tenant, [{ ...order_json, id: order_id }]);
  expect(booked?.status).toBe("created");
  await completeOrder(ctx, tenant, order_id);
  clock.advance(61_000);
  expect(await releaseDue(ctx, tenant)).toBe(1);
  return { ctx, clock, tenant, scope: { tenant_id: tenant, party_id: null } };
}

async function balance(ctx: ServiceContext, tenant: string, party: string) {
  const [row] = await partyBalances(ctx.db, { tenant_id: tenant, party_id: null }, party);
  return row!;
}

describe("settlement runs", () => {
  it("pays released funds T+1 once, idempotently per cycle, and confirms into paid out", async () => {
    const { ctx, clock, tenant } = await releasedOrder();
    const before = await balance(ctx, tenant, "m-1001");
    expect(before.available_minor > 0n).toBe(true);
    // The same day: T+1 has nothing due yet.
    const same_day = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(same_day.paid).toEqual([]);
    clock.advance(day_ms);
    const run = await runSettlement(ctx, tenant, { trigger: "cli" });
    const merchant = run.paid.find((item) => item.party_id === "m-1001");
    expect(merchant?.amount_minor).toBe(before.available_minor);
    const after = await balance(ctx, tenant, "m-1001");
    expect(after.available_minor).toBe(0n);
    expect(after.in_transit_minor).toBe(before.available_minor);
    await expectLedgerInvariants(db, tenant);
    // Again the same day: every payout is a replay, nothing moves.
    const again = await runSettlement(ctx, tenant, { trigger: "api" });
    expect(again.paid).toEqual([]);
    expect(again.replayed.map((item) => item.payout_id).sort()).toEqual(
      run.paid.map((item) => item.payout_id).sort(),
    );
    expect((await balance(ctx, tenant, "m-1001")).in_transit_minor).toBe(before.available_minor);
    const confirmed = await resolvePayoutResult(ctx, tenant, merchant!.payout_id, { outcome: "confirm" });
    expect(confirmed.state).toBe("paid_out");
    const paid = await balance(ctx, tenant, "m-1001");
    expect(paid.in_transit_minor).toBe(0n);
    // A second confirmation is a replay; failing a paid payout is refused.
    expect((await resolvePayoutResult(ctx, tenant, merchant!.payout_id, { outcome: "confirm" })).state).toBe(
      "paid_out",
    );
    await expect(
      resolvePayoutResult(ctx, tenant, merchant!.payout_id, { outcome: "fail", reason: "x" }),
    ).rejects.toMatchObject({
      code: "payout_state_invalid",
    });
    const page = await listPayouts(db, { tenant_id: tenant, party_id: "m-1001" }, { limit: 1 });
    expect(page.items.map((item) => item.party_id)).toEqual(["m-1001"]);
    await expectLedgerInvariants(db, tenant);
  });

  it("a failed payout returns its funds to available, and the next cycle pays them", async () => {
    const { ctx, clock, tenant } = await releasedOrder();
    clock.advance(day_ms);
    const run = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    const payout = run.paid[0]!;
    const failed = await resolvePayoutResult(ctx, tenant, payout.payout_id, {
      outcome: "fail",
      reason: "account closed",
    });
    expect(failed.state).toBe("failed");
    expect(failed.failure_reason).toBe("account closed");
    const back = await balance(ctx, tenant, "m-1001");
    expect(back.available_minor).toBe(payout.amount_minor);
    expect(back.in_transit_minor).toBe(0n);
    const events = await db.query<{ type: string }>(
      "SELECT type FROM events WHERE tenant_id = $1 AND type LIKE 'payout.%' ORDER BY id",
      [tenant],
    );
    expect(events.map((event) => event.type)).toEqual(["payout.created", "payout.failed"]);
    clock.advance(day_ms);
    const next = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    expect(next.paid[0]?.amount_minor).toBe(payout.amount_minor);
    await expectLedgerInvariants(db, tenant);
  });

  it("nets debt before paying, and carries a payout under the minimum over", async () => {
    const { ctx, clock, tenant } = await releasedOrder("A-1");
    clock.advance(day_ms);
    const first = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    const share_minor = first.paid[0]!.amount_minor;
    // Refunded in full after it was paid: the merchant's share becomes debt.
    await refundOrder(ctx, tenant, "A-1", { refund_id: "r1", amount_minor: order_json.paid_minor }, "refund");
    const owed = await balance(ctx, tenant, "m-1001");
    expect(owed.debt_minor >= share_minor).toBe(true);
    // A second, identical order: its share is netted against the debt, nothing is paid.
    await bookOrders(ctx, tenant, [{ ...order_json, id: "A-2", paid_at: clock.now().toISOString() }]);
    await completeOrder(ctx, tenant, "A-2");
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    const available_minor = (await balance(ctx, tenant, "m-1001")).available_minor;
    expect(available_minor).toBe(share_minor);
    clock.advance(day_ms);
    const netted = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    expect(netted.paid).toEqual([]);
    expect(netted.carried_over[0]).toMatchObject({
      state: "netted",
      netted_minor: share_minor,
      amount_minor: 0n,
    });
    const cleared = await balance(ctx, tenant, "m-1001");
    expect(cleared.debt_minor).toBe(owed.debt_minor - share_minor);
    expect(cleared.available_minor).toBe(0n);
    await expectLedgerInvariants(db, tenant);
    // A third order under a minimum larger than its share: carried over, then paid once the minimum drops.
    await bookOrders(ctx, tenant, [{ ...order_json, id: "A-3", paid_at: clock.now().toISOString() }]);
    await completeOrder(ctx, tenant, "A-3");
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    await updateParty(
      ctx,
      tenant,
      "m-1001",
      { settlement: { cycle: { type: "daily", lag_days: 1 }, minimum_payout_minor: Number(share_minor) } },
      "test",
    );
    clock.advance(day_ms);
    const carried = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    // The rest of the debt is netted first; what is left is under the minimum.
    const rest_minor = share_minor - cleared.debt_minor;
    expect(carried.carried_over[0]).toMatchObject({
      state: "carried_over",
      amount_minor: rest_minor,
      netted_minor: cleared.debt_minor,
    });
    expect((await balance(ctx, tenant, "m-1001")).available_minor).toBe(rest_minor);
    expect((await balance(ctx, tenant, "m-1001")).debt_minor).toBe(0n);
    await updateParty(
      ctx,
      tenant,
      "m-1001",
      { settlement: { cycle: { type: "daily", lag_days: 1 }, minimum_payout_minor: 100 } },
      "test",
    );
    clock.advance(day_ms);
    const paid = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    expect(paid.paid[0]?.amount_minor).toBe(rest_minor);
    await expectLedgerInvariants(db, tenant);
  });

  it("a profile change is a security event and takes effect from the next cycle, not the one already due", async () => {
    const { ctx, clock, tenant } = await releasedOrder();
    await updateParty(
      ctx,
      tenant,
      "m-1001",
      { settlement: { cycle: { type: "daily", lag_days: 1 }, payout_account_ref: "6222020200001111111" } },
      "user:fin",
    );
    clock.advance(day_ms);
    const share_minor = (await balance(ctx, tenant, "m-1001")).available_minor;
    // On the due day someone raises the minimum above the share and redirects the account.
    await updateParty(
      ctx,
      tenant,
      "m-1001",
      {
        settlement: {
          cycle: { type: "daily", lag_days: 1 },
          minimum_payout_minor: Number(share_minor) + 1,
          payout_account_ref: "6222020200009999999",
        },
      },
      "user:mallory",
      "203.0.113.9",
    );
    const run = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    // The cycle already due is paid under the profile in force at its cut-off: old minimum, old account.
    expect(run.paid[0]).toMatchObject({ party_id: "m-1001", amount_minor: share_minor });
    const [payout] = await db.query<{ payout_account_ref: string }>(
      "SELECT payout_account_ref FROM payouts WHERE tenant_id = $1 AND id = $2",
      [tenant, run.paid[0]!.payout_id],
    );
    expect(payout!.payout_account_ref).toBe("6222020200001111111");
    const events = await db.query<{ actor: string; ip: string | null; subject: string; detail: unknown }>(
      `SELECT actor, ip, subject, detail FROM security_events
        WHERE tenant_id = $1 AND action = 'party_settlement_changed' ORDER BY occurred_at, id`,
      [tenant],
    );
    expect(events.map((event) => [event.actor, event.ip, event.subject])).toEqual([
      ["user:fin", null, "party:m-1001"],
      ["user:mallory", "203.0.113.9", "party:m-1001"],
    ]);
    const detail = (
      typeof events[1]!.detail === "string" ? JSON.parse(events[1]!.detail) : events[1]!.detail
    ) as {
      payout_account_ref: { before: string; after: string };
      effective_from_run_date: string;
      changed: string[];
    };
    expect(detail.changed).toEqual(["settlement"]);
    expect(detail.payout_account_ref).toEqual({
      before: "***************1111",
      after: "***************9999",
    });
    expect(detail.effective_from_run_date).toBe("2026-11-27");
    expect(JSON.stringify(events)).not.toContain("6222020200009999999");
    // The next cycle runs under the new profile: a share under its minimum carries over.
    await bookOrders(ctx, tenant, [{ ...order_json, id: "P-2", paid_at: clock.now().toISOString() }]);
    await completeOrder(ctx, tenant, "P-2");
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    clock.advance(day_ms);
    const next = await runSettlement(ctx, tenant, { trigger: "cli", party_ids: ["m-1001"] });
    expect(next.paid).toEqual([]);
    expect(next.carried_over[0]).toMatchObject({ party_id: "m-1001", state: "carried_over" });
    await expectLedgerInvariants(db, tenant);
  });

  it("applies a bank's result file: paid, failed with a reason, unknown references reported, the same file again unchanged", async () => {
    const { ctx, clock, tenant } = await releasedOrder();
    clock.advance(day_ms);
    const run = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(run.paid.length).toBeGreaterThan(1);
    const [paid, failed] = run.paid;
    const dir = mkdtempSync(join(tmpdir(), "results-"));
    try {
      const path = join(dir, "results.csv");
      writeFileSync(
        path,
        `reference,status,reason,provider_reference\r\n${paid!.reference},paid,,BANK-1\r\n${failed!.reference},failed,"account closed, per bank",\r\nCSPNOPE,paid,,\r\n`,
      );
      const first = await importPayoutResults(ctx, tenant, path);
      expect(first).toEqual({
        confirmed: 1,
        failed: 1,
        unchanged: 0,
        rejected: [{ line: 4, reason: 'no payout with reference "CSPNOPE"' }],
      });
      const page = await listPayouts(db, { tenant_id: tenant, party_id: failed!.party_id }, {});
      expect(page.items.map((item) => [item.state, item.failure_reason])).toEqual([
        ["failed", "account closed, per bank"],
      ]);
      const again = await importPayoutResults(ctx, tenant, path);
      expect(again).toMatchObject({ confirmed: 0, failed: 0, unchanged: 2 });
      expect((await balance(ctx, tenant, failed!.party_id)).available_minor).toBe(failed!.amount_minor);
      await expectLedgerInvariants(db, tenant);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
