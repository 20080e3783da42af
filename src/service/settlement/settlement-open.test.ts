import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { entries_per_payout_max } from "../../core/limits.ts";
import type { Database, Queryable } from "../../store/database.ts";
import { commitHorizon } from "../../store/event-seqs-sql.ts";
import { fresh_postings_sql, selectOpenEntries, takeNewPostings } from "../../store/settlement-open-sql.ts";
import { selectUncoveredEntries } from "../../store/settlement-sql.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { planOf, workingRoot } from "../../testing/plans.ts";
import type { ServiceContext } from "../context.ts";
import { writeJournalBatch } from "../ledger/write-batch.ts";
import { bookOrders } from "../orders/book.ts";
import { releaseOrder } from "../orders/order-lifecycle.ts";
import { accountFor, partyAccounts, partyKinds } from "../orders/party-accounts.ts";
import { resolvePayoutResult } from "./payouts.ts";
import { runSettlement } from "./settlement-run.ts";

// Settlement keeps each available account's open set (migration 092): a run
// reads the postings written since the account's mark and the entries still
// unpaid, never the account's history. These tests prove the read is bounded
// by counting rows, that the open set always equals the whole-history answer,
// and that a posting committed late, back-dated behind entries already paid,
// is paid exactly once by the next run.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const day_ms = 86_400_000;
const far_future = new Date("2100-01-01T00:00:00Z");

async function partyAccount(tx: Queryable, tenant: string, purpose: "available" | "expense", party: string) {
  const kinds = await partyKinds(tx, tenant, [party]);
  const spec = { party_id: party, purpose, currency: "CNY" };
  const accounts = await partyAccounts(tx, tenant, [spec], kinds, new Date());
  return accountFor(accounts, spec).id;
}

/** The open set after a take equals the whole-history anti-join, entry for entry and in order. */
async function expectOpenSetExact(tenant: string, account_id: string) {
  await db.transaction(async (tx) => {
    await takeNewPostings(tx, tenant, account_id, await commitHorizon(tx));
    const open = await selectOpenEntries(tx, tenant, account_id, far_future, entries_per_payout_max);
    const whole = await selectUncoveredEntries(tx, tenant, account_id, far_future, entries_per_payout_max);
    expect(open.map(key)).toEqual(whole.map(key));
    expect(open.map((entry) => entry.amount_minor)).toEqual(whole.map((entry) => BigInt(entry.amount_minor)));
  });
}

/** The one scan of a statement's plan, run: its index, rows returned and rows its filter removed. */
async function scanOf(sql: string, params: unknown[]) {
  const [row] = await db.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
  // On Citus the worker's plan for the tenant's shard, its names without the shard's number.
  const node = workingRoot(planOf(row!["QUERY PLAN"]));
  return {
    index: node["Index Name"],
    returned: node["Actual Rows"],
    removed: node["Rows Removed by Filter"] ?? 0,
  };
}

const key = (entry: { transaction_id: string; seq: number }) => `${entry.transaction_id}/${entry.seq}`;

describe("settlement's open set", () => {
  it("reads the same number of postings per run however long the account's history", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "open-set");
    await seedExampleMarketplace(ctx, tenant, 60_000);
    const account_id = await db.transaction((tx) => partyAccount(tx, tenant, "available", "m-1001"));
    const scanned_per_round: number[] = [];
    const history: number[] = [];
    for (let round = 0; round < 6; round += 1) {
      const order_id = `OPEN-${round}`;
      const [booked] = await bookOrders(ctx, tenant, [{ ...order_json, id: order_id }]);
      expect(booked?.status).toBe("created");
      clock.advance(3_600_000);
      await releaseOrder(ctx, tenant, order_id);
      // What the next run's take reads: only this round's postings, whatever came before.
      const take = await db.transaction(async (tx) =>
        takeNewPostings(tx, tenant, account_id, await commitHorizon(tx)),
      );
      scanned_per_round.push(take.scanned);
      const [count] = await db.query<{ postings: string }>(
        "SELECT count(*)::text AS postings FROM postings WHERE tenant_id = $1 AND account_id = $2",
        [tenant, account_id],
      );
      history.push(Number(count?.postings));
      clock.advance(day_ms);
      const run = await runSettlement(ctx, tenant, { trigger: "cli" });
      expect(run.paid.some((item) => item.party_id === "m-1001")).toBe(true);
      await expectOpenSetExact(tenant, account_id);
    }
    // The history grows by the release and the payout each round; the take's read does not.
    expect(history[5]! - history[0]!).toBeGreaterThanOrEqual(10);
    expect(new Set(scanned_per_round.slice(1)).size).toBe(1);
    expect(scanned_per_round[5]).toBeLessThanOrEqual(scanned_per_round[1]!);
    // Rows examined, not only returned: the take's scan is an index range over the new postings.
    const [mark] = await db.query<{ taken_below: string }>(
      "SELECT taken_below::text FROM settlement_account_marks WHERE tenant_id = $1 AND account_id = $2",
      [tenant, account_id],
    );
    const examined = await scanOf(fresh_postings_sql, [tenant, account_id, mark!.taken_below]);
    expect(examined).toEqual({ index: "postings_account_xid", returned: 0, removed: 0 });
    // Everything paid: the open set is empty, and reading it reads nothing.
    const open = await db.transaction((tx) =>
      selectOpenEntries(tx, tenant, account_id, far_future, entries_per_payout_max),
    );
    expect(open).toEqual([]);
    await expectLedgerInvariants(db, tenant);
  }, 240_000);

  it("puts a failed payout's entries back, and the next cycle pays them once", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "open-fail");
    await seedExampleMarketplace(ctx, tenant, 60_000);
    const account_id = await db.transaction((tx) => partyAccount(tx, tenant, "available", "m-1001"));
    await bookOrders(ctx, tenant, [{ ...order_json, id: "OPEN-FAIL" }]);
    clock.advance(3_600_000);
    await releaseOrder(ctx, tenant, "OPEN-FAIL");
    clock.advance(day_ms);
    const first = await runSettlement(ctx, tenant, { trigger: "cli" });
    const paid = first.paid.find((item) => item.party_id === "m-1001")!;
    await expectOpenSetExact(tenant, account_id);
    await resolvePayoutResult(ctx, tenant, paid.payout_id, { outcome: "fail", reason: "account closed" });
    await expectOpenSetExact(tenant, account_id);
    clock.advance(day_ms);
    const second = await runSettlement(ctx, tenant, { trigger: "cli" });
    const again = second.paid.find((item) => item.party_id === "m-1001");
    expect(again?.amount_minor).toBe(paid.amount_minor);
    await expectOpenSetExact(tenant, account_id);
    await expectLedgerInvariants(db, tenant);
  }, 120_000);

  // PGlite has one connection: no transaction can be open across another's run.
  it.skipIf(process.env.DATABASE_URL === undefined)(
    "pays a posting whose transaction began before a run and committed after it, back-dated, exactly once",
    async () => {
      const clock = testClock("2026-11-25T10:00:00Z");
      const ctx: ServiceContext = { db, now: clock.now };
      const tenant = await newTestTenant(ctx, "open-late");
      await seedExampleMarketplace(ctx, tenant, 60_000);
      const account_id = await db.transaction((tx) => partyAccount(tx, tenant, "available", "m-1001"));
      const expense_id = await db.transaction((tx) => partyAccount(tx, tenant, "expense", "platform"));
      await bookOrders(ctx, tenant, [{ ...order_json, id: "OPEN-LATE" }]);
      clock.advance(3_600_000);
      await releaseOrder(ctx, tenant, "OPEN-LATE");
      clock.advance(day_ms);
      let release!: () => void;
      const run_done = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The late writer takes its xid first, waits for a run to finish, then posts an entry
      // back-dated before everything that run paid, and commits.
      const late = db.transaction(async (tx) => {
        await tx.query("SELECT pg_current_xact_id()");
        await run_done;
        const [result] = await writeJournalBatch(
          tx,
          tenant,
          [
            {
              idempotency_key: "open-late-adjustment",
              kind: "adjustment",
              effective_at: new Date("2026-11-20T00:00:00Z"),
              entries: [
                { account_id: expense_id, side: "debit", amount_minor: 1_234n, currency: "CNY" },
                { account_id, side: "credit", amount_minor: 1_234n, currency: "CNY" },
              ],
            },
          ],
          clock.now(),
        );
        expect(result?.status).toBe("created");
      });
      const first = await runSettlement(ctx, tenant, { trigger: "cli" });
      release();
      await late;
      const first_paid = first.paid.find((item) => item.party_id === "m-1001")!;
      await expectOpenSetExact(tenant, account_id);
      clock.advance(day_ms);
      const second = await runSettlement(ctx, tenant, { trigger: "cli" });
      expect(second.paid.find((item) => item.party_id === "m-1001")?.amount_minor).toBe(1_234n);
      const [covered] = await db.query<{ payouts: string }>(
        `SELECT count(*)::text AS payouts FROM payout_entries pe JOIN journal_transactions j
            ON j.tenant_id = pe.tenant_id AND j.id = pe.transaction_id
          WHERE pe.tenant_id = $1 AND j.idempotency_key = 'open-late-adjustment'`,
        [tenant],
      );
      expect(covered?.payouts).toBe("1");
      expect(first_paid.amount_minor > 0n).toBe(true);
      await expectOpenSetExact(tenant, account_id);
      await expectLedgerInvariants(db, tenant);
    },
    120_000,
  );
});
