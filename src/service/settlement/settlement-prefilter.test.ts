import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { PartyKind } from "../../core/ledger/types.ts";
import { cycleOn, dayStart, isoDate, parseProfile } from "../../core/settlement/profile.ts";
import type { Database } from "../../store/database.ts";
import { selectSettlementCandidates } from "../../store/settlement-runs-sql.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { Actor } from "../audit/actor.ts";
import { flagOrder } from "../audit/cases.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { releaseOrder } from "../orders/order-lifecycle.ts";
import { type PartyOutcome, settlePartyCycle } from "./settle-party.ts";
import { type RunResult, runSettlement, unsettled_kinds } from "./settlement-run.ts";

// A run decides in one statement which due parties could have anything to do
// (selectPartiesMaybeDue, docs/decisions.md §38) and opens a transaction only
// for those. These tests prove that every party it leaves out is one whose
// own transaction, run on the same books, answers nothing_due; that it leaves
// out parties holding funds not yet payable without taking their postings; and
// that a party paid this cycle is still answered as a replay.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const day_ms = 86_400_000;

interface Ran {
  run: RunResult;
  outcomes: PartyOutcome[];
}

async function run(ctx: ServiceContext, tenant: string): Promise<Ran> {
  const outcomes: PartyOutcome[] = [];
  const result = await runSettlement(ctx, tenant, {
    trigger: "cli",
    after_party: (outcome) => {
      outcomes.push(outcome);
    },
  });
  return { run: result, outcomes };
}

/** What settlePartyCycle answers for the party now, in a transaction rolled back after it. */
async function ownTransactionAnswer(
  ctx: ServiceContext,
  tenant: string,
  ran: Ran,
  party_id: string,
  currency: string,
): Promise<PartyOutcome["status"]> {
  const as_of = ran.run.as_of;
  const candidates = await selectSettlementCandidates(db, tenant, {
    unsettled_kinds: [...unsettled_kinds],
    named: [party_id],
    cutoff: dayStart(as_of),
    limit: 10,
  });
  const candidate = candidates.find((row) => row.currency === currency);
  expect(candidate).toBeDefined();
  const profile = parseProfile(candidate!.settlement);
  const decision = cycleOn(profile.cycle, as_of, false);
  const rolled_back = new Error("rolled back on purpose");
  let status: PartyOutcome["status"] | undefined;
  await expect(
    db.transaction(async (tx) => {
      const outcome = await settlePartyCycle(
        tx,
        tenant,
        {
          party_id,
          kind: candidate!.kind as PartyKind,
          currency,
          profile,
          cycle_key: decision.cycle_key,
          eligible_before: decision.eligible_before,
          run_id: ran.run.run_id,
          run_date: isoDate(as_of),
        },
        ctx.now(),
      );
      status = outcome.status;
      throw rolled_back;
    }),
  ).rejects.toBe(rolled_back);
  return status!;
}

/** Every party the run answered nothing_due, asked again through its own transaction. */
async function expectLeftOutAreNothingDue(ctx: ServiceContext, tenant: string, ran: Ran): Promise<number> {
  const left_out = ran.outcomes.filter((outcome) => outcome.status === "nothing_due");
  for (const outcome of left_out) {
    if (outcome.status !== "nothing_due") continue;
    expect(await ownTransactionAnswer(ctx, tenant, ran, outcome.party_id, outcome.currency)).toBe(
      "nothing_due",
    );
  }
  return left_out.length;
}

async function marks(tenant: string): Promise<number> {
  const [row] = await db.query<{ marks: string }>(
    "SELECT count(*)::text AS marks FROM settlement_account_marks WHERE tenant_id = $1",
    [tenant],
  );
  return Number(row?.marks);
}

async function markValues(tenant: string): Promise<string[]> {
  const rows = await db.query<{ mark: string }>(
    `SELECT account_id::text || ' ' || taken_below::text AS mark FROM settlement_account_marks
      WHERE tenant_id = $1 ORDER BY account_id`,
    [tenant],
  );
  return rows.map((row) => row.mark);
}

describe("settlement's one-statement read of who has anything due", () => {
  it("leaves out only parties whose own transaction answers nothing_due, and replays a paid cycle", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "prefilter");
    await seedExampleMarketplace(ctx, tenant, 60_000);
    const [booked] = await bookOrders(ctx, tenant, [{ ...order_json, id: "PRE-1" }]);
    expect(booked?.status).toBe("created");
    clock.advance(3_600_000);
    await releaseOrder(ctx, tenant, "PRE-1");

    // Released today, paid tomorrow (daily T+1): funds held, none payable yet.
    const today = await run(ctx, tenant);
    expect(today.run.parties_due).toBeGreaterThan(0);
    expect(today.run.paid).toEqual([]);
    expect(today.run.nothing_due).toBe(today.run.parties_due);
    expect(await expectLeftOutAreNothingDue(ctx, tenant, today)).toBe(today.run.parties_due);
    // No party's transaction ran: none took its postings into its open set.
    expect(await marks(tenant)).toBe(0);

    clock.advance(day_ms);
    const tomorrow = await run(ctx, tenant);
    expect(tomorrow.run.paid.length).toBeGreaterThan(0);
    expect(await expectLeftOutAreNothingDue(ctx, tenant, tomorrow)).toBe(tomorrow.run.nothing_due);
    expect(await marks(tenant)).toBe(tomorrow.run.parties_due - tomorrow.run.nothing_due);

    // The same day again: the parties paid are answered as replays, the rest nothing due.
    clock.advance(3_600_000);
    const again = await run(ctx, tenant);
    expect(again.run.paid).toEqual([]);
    expect(again.run.replayed.map((item) => item.payout_id).sort()).toEqual(
      tomorrow.run.paid.map((item) => item.payout_id).sort(),
    );
    expect(again.run.nothing_due).toBe(again.run.parties_due - again.run.replayed.length);
    await expectLeftOutAreNothingDue(ctx, tenant, again);

    // The next day everything is paid: every party is left out, and no mark moves.
    const marks_before = await markValues(tenant);
    clock.advance(day_ms);
    const after = await run(ctx, tenant);
    expect(after.run.parties_due).toBe(today.run.parties_due);
    expect(after.run.nothing_due).toBe(after.run.parties_due);
    expect(await expectLeftOutAreNothingDue(ctx, tenant, after)).toBe(after.run.parties_due);
    expect(await markValues(tenant)).toEqual(marks_before);
    await expectLedgerInvariants(db, tenant);
  }, 120_000);

  it("leaves out a party whose only payable entries an open case on their order holds", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx, "prefilter-held");
    await seedExampleMarketplace(ctx, tenant, 60_000);
    const [booked] = await bookOrders(ctx, tenant, [{ ...order_json, id: "PRE-HELD" }]);
    expect(booked?.status).toBe("created");
    clock.advance(3_600_000);
    await releaseOrder(ctx, tenant, "PRE-HELD");
    const finance: Actor = { actor: "user:fin", person: "user:fin", role: "finance" };
    await flagOrder(ctx, tenant, { order_id: "PRE-HELD", reason: "a spot check" }, finance);

    // Payable by date, but the case holds every entry: no party has anything due.
    clock.advance(day_ms);
    const held = await run(ctx, tenant);
    expect(held.run.parties_due).toBeGreaterThan(0);
    expect(held.run.nothing_due).toBe(held.run.parties_due);
    expect(await expectLeftOutAreNothingDue(ctx, tenant, held)).toBe(held.run.parties_due);
    expect(await marks(tenant)).toBe(0);
    await expectLedgerInvariants(db, tenant);
  }, 120_000);
});
