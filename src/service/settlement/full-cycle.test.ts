import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import type { Database } from "../../store/database.ts";
import { openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import type { ServiceContext } from "../context.ts";
import { seedDemo } from "../demo/seed.ts";
import { releaseDue } from "../orders/order-lifecycle.ts";
import { type PartyBalance, partyBalances } from "../parties/party-reads.ts";
import { recordSha256 } from "../tlog/record-enqueue.ts";
import { rebuildRecords } from "../tlog/record-rebuild.ts";
import { resolvePayoutResult } from "./payouts.ts";
import { runSettlement } from "./settlement-run.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

async function allBalances(tenant_id: string): Promise<Map<string, PartyBalance>> {
  const parties = await db.query<{ id: string }>("SELECT id FROM parties WHERE tenant_id = $1 ORDER BY id", [
    tenant_id,
  ]);
  const out = new Map<string, PartyBalance>();
  const zero = {
    currency: "CNY",
    held_minor: 0n,
    available_minor: 0n,
    in_transit_minor: 0n,
    debt_minor: 0n,
    pending_out_minor: 0n,
  };
  for (const { id } of parties) {
    const rows = await partyBalances(db, { tenant_id, party_id: null }, id);
    out.set(id, rows.find((row) => row.currency === "CNY") ?? zero);
  }
  return out;
}

describe("settlement over the demo marketplace", () => {
  it("settles, confirms and fails payouts with every party's balances moving exactly, the trial balance at zero", async () => {
    const clock = testClock("2026-11-25T06:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = `demo-${newId().replaceAll("-", "").slice(-16)}`;
    await seedDemo(ctx, { tenant_id: tenant, orders: 150, seed: 7 });
    await expectLedgerInvariants(db, tenant);
    clock.advance(86_400_000);
    while ((await releaseDue(ctx, tenant)) > 0) {}
    const before = await allBalances(tenant);

    const run = await runSettlement(ctx, tenant, { trigger: "scheduler" });
    expect(run.paid.length).toBeGreaterThan(0);
    const after = await allBalances(tenant);
    await expectLedgerInvariants(db, tenant);
    const moved = new Map([...run.paid, ...run.carried_over].map((item) => [item.party_id, item]));
    for (const [party_id, was] of before) {
      const now = after.get(party_id)!;
      const item = moved.get(party_id);
      const paid_minor = item !== undefined && item.state === "in_transit" ? item.amount_minor : 0n;
      const netted_minor = item?.netted_minor ?? 0n;
      expect(was.held_minor - now.held_minor, `${party_id} held`).toBe(0n);
      expect(was.available_minor - now.available_minor, `${party_id} available`).toBe(
        paid_minor + netted_minor,
      );
      expect(now.in_transit_minor - was.in_transit_minor, `${party_id} in transit`).toBe(paid_minor);
      expect(was.debt_minor - now.debt_minor, `${party_id} debt`).toBe(netted_minor);
    }

    // Confirm every payout but the first, which the bank returns.
    const [returned, ...confirmed] = run.paid;
    await resolvePayoutResult(ctx, tenant, returned!.payout_id, {
      outcome: "fail",
      reason: "beneficiary account closed",
    });
    for (const item of confirmed)
      await resolvePayoutResult(ctx, tenant, item.payout_id, { outcome: "confirm" });
    const settled = await allBalances(tenant);
    for (const [party_id, balance] of settled)
      expect(balance.in_transit_minor, `${party_id} in transit`).toBe(0n);
    expect(settled.get(returned!.party_id)!.available_minor).toBe(
      after.get(returned!.party_id)!.available_minor + returned!.amount_minor,
    );
    const [paid_out] = await db.query<{ total: bigint }>(
      `SELECT coalesce(sum(b.posted_minor), 0)::int8 AS total FROM accounts a
         JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
        WHERE a.tenant_id = $1 AND a.purpose = 'paid_out'`,
      [tenant],
    );
    expect(paid_out!.total).toBe(confirmed.reduce((sum, item) => sum + item.amount_minor, 0n));
    await expectLedgerInvariants(db, tenant);

    // Every payout record rebuilds from its rows to the hash that was logged.
    const logged = await db.query<{ id: string; salt: Uint8Array; record_sha256: Uint8Array }>(
      "SELECT id::text, salt, record_sha256 FROM log_records WHERE tenant_id = $1 AND kind = 'settlement_batch'",
      [tenant],
    );
    expect(logged.length).toBe(run.paid.length + run.carried_over.length);
    const rebuilt = await rebuildRecords(
      db,
      tenant,
      "settlement_batch",
      logged.map((row) => row.id),
    );
    for (const row of logged)
      expect(recordSha256(row.salt, rebuilt.get(row.id)).equals(Buffer.from(row.record_sha256)), row.id).toBe(
        true,
      );
  }, 240_000);
});
