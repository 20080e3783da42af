import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, TransactionRequest } from "../../core/ledger/types.ts";
import { statement_days_max } from "../../core/limits.ts";
import { day_ms, parsePeriod } from "../../core/reports/period.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, openAccount } from "../ledger/accounts.ts";
import { postTransactions } from "../ledger/post.ts";
import { partyBalances } from "../parties/party-reads.ts";
import { LogKeyStore } from "../tlog/signing-keys.ts";
import { sequenceAll } from "../tlog/testing.ts";
import { foldLedgerDays } from "./fold.ts";
import { partyStatement } from "./party-statement.ts";

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const start_ms = Date.parse("2026-09-01T00:00:00Z");

interface Book {
  held: Account;
  available: Account;
  in_transit: Account;
  paid_out: Account;
  debt: Account;
  clearing: Account;
}

/** Random sales, releases, payouts and refunds into debt on one merchant over 60 days, never overdrawing. */
function randomHistory(book: Book, count: number, seed: number): TransactionRequest[] {
  let state = seed;
  const random = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  const balance = { held: 0n, available: 0n, in_transit: 0n };
  const requests: TransactionRequest[] = [];
  const move = (kind: string, from: Account, to: Account, amount_minor: bigint, at_ms: number) =>
    requests.push({
      idempotency_key: `h-${requests.length}`,
      kind,
      effective_at: new Date(at_ms),
      entries: [
        { account_id: from.id, side: "debit", amount_minor, currency: "CNY" },
        { account_id: to.id, side: "credit", amount_minor, currency: "CNY" },
      ],
    });
  for (let i = 0; i < count; i++) {
    // Days 0-59, skipping days 20-24 entirely: a period with no activity.
    let day = random(55);
    if (day >= 20) day += 5;
    const at_ms = start_ms + day * day_ms + random(day_ms);
    const choice = random(5);
    const amount = BigInt(1 + random(50_000));
    if (choice === 0 && balance.held > 0n) {
      const part = balance.held / 2n + 1n;
      balance.held -= part;
      balance.available += part;
      move("release", book.held, book.available, part, at_ms);
    } else if (choice === 1 && balance.available > 0n) {
      const part = balance.available;
      balance.available = 0n;
      balance.in_transit += part;
      move("settlement", book.available, book.in_transit, part, at_ms);
    } else if (choice === 2 && balance.in_transit > 0n) {
      const part = balance.in_transit;
      balance.in_transit = 0n;
      move("payout", book.in_transit, book.paid_out, part, at_ms);
    } else if (choice === 3) {
      move("refund_reversal", book.debt, book.clearing, amount, at_ms);
    } else {
      balance.held += amount;
      move("split", book.clearing, book.held, amount, at_ms);
    }
  }
  // Effective times are random, but each move must be bookable in booking order.
  return requests;
}

describe("party statement", () => {
  it("reconciles to the unit with the balance API's as_of on random periods, folded or not", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await createParty(ctx, tenant, { id: "psp", kind: "psp", name: "PSP" });
    await createParty(ctx, tenant, { id: "m1", kind: "merchant", name: "商户一号" });
    const account = (party_id: string, purpose: Account["purpose"]) =>
      openAccount(ctx, tenant, { party_id, purpose, currency: "CNY" });
    const book: Book = {
      held: await account("m1", "held"),
      available: await account("m1", "available"),
      in_transit: await account("m1", "in_transit"),
      paid_out: await account("m1", "paid_out"),
      debt: await account("m1", "debt"),
      clearing: await account("psp", "clearing"),
    };
    const history = randomHistory(book, 160, 7);
    const first = await postTransactions(ctx, tenant, history.slice(0, 100));
    expect(first.every((result) => result.status === "created")).toBe(true);
    // The first part is in the log and folded; the rest is only in the journal.
    const keys = new LogKeyStore({ host: "reports.test" });
    await sequenceAll(ctx, tenant, keys);
    expect(await foldLedgerDays(ctx)).toBeGreaterThanOrEqual(100);
    const second = await postTransactions(ctx, tenant, history.slice(100));
    expect(second.every((result) => result.status === "created")).toBe(true);

    const scope = { tenant_id: tenant, party_id: "m1" };
    let state = 11;
    const periods: [number, number][] = [
      [20, 25], // no activity at all
      [0, 60],
      [-5, 70],
    ];
    for (let i = 0; i < 12; i++) {
      state = (state * 48_271) % 2_147_483_647;
      const a = state % 62;
      state = (state * 48_271) % 2_147_483_647;
      const b = a + 1 + (state % 30);
      periods.push([a, b]);
    }
    for (const [a, b] of periods) {
      const from = new Date(start_ms + a * day_ms);
      const to = new Date(start_ms + b * day_ms);
      const period = parsePeriod(from.toISOString(), to.toISOString(), statement_days_max);
      const statement = await partyStatement(db, scope, { party_id: "m1", period }, clock.now());
      const [opening] = await partyBalances(db, scope, "m1", new Date(statement.opening_as_of));
      const [closing] = await partyBalances(db, scope, "m1", new Date(statement.closing_as_of));
      const net = (b: typeof opening) =>
        b === undefined ? 0n : b.held_minor + b.available_minor + b.in_transit_minor - b.debt_minor;
      expect(statement.opening_minor, `opening of [${a}, ${b})`).toBe(net(opening));
      expect(statement.closing_minor, `closing of [${a}, ${b})`).toBe(net(closing));
      const field = {
        held: "held_minor",
        available: "available_minor",
        in_transit: "in_transit_minor",
        debt: "debt_minor",
      } as const;
      for (const bucket of statement.buckets) {
        expect(bucket.opening_minor).toBe(opening?.[field[bucket.bucket]] ?? 0n);
        expect(bucket.closing_minor).toBe(closing?.[field[bucket.bucket]] ?? 0n);
        let sum = bucket.opening_minor;
        for (const line of bucket.lines) sum += line.amount_minor;
        expect(sum).toBe(bucket.closing_minor);
      }
      let total = statement.opening_minor;
      for (const line of statement.lines) total += line.amount_minor;
      expect(total).toBe(statement.closing_minor);
      if (a === 20) expect(statement.lines).toEqual([]);
    }
    // A period that crosses payouts shows them, and the whole history's closing is today's balance.
    const whole = await partyStatement(
      db,
      scope,
      { party_id: "m1", period: parsePeriod("2026-08-01", "2026-12-01", statement_days_max) },
      clock.now(),
    );
    expect(whole.lines.map((line) => line.kind)).toEqual(
      expect.arrayContaining(["sales", "releases", "payouts", "refunds"]),
    );
    const [now_balance] = await partyBalances(db, scope, "m1");
    expect(whole.closing_minor).toBe(
      now_balance!.held_minor +
        now_balance!.available_minor +
        now_balance!.in_transit_minor -
        now_balance!.debt_minor,
    );
    expect(whole.checkpoint?.origin).toBe(`reports.test/${tenant}`);
    expect(whole.checkpoint?.size).toBe(100);
    expect(whole.transactions_after_checkpoint).toBe(60);
  });

  it("refuses a currency the party never used, and hides other parties", async () => {
    const ctx: ServiceContext = { db, now: () => new Date() };
    const tenant = await newTestTenant(ctx);
    await createParty(ctx, tenant, { id: "m1", kind: "merchant", name: "M1" });
    await createParty(ctx, tenant, { id: "m2", kind: "merchant", name: "M2" });
    await openAccount(ctx, tenant, { party_id: "m1", purpose: "held", currency: "CNY" });
    const period = parsePeriod("2026-11-01", "2026-12-01", statement_days_max);
    await expect(
      partyStatement(
        db,
        { tenant_id: tenant, party_id: null },
        { party_id: "m1", currency: "USD", period },
        new Date(),
      ),
    ).rejects.toMatchObject({ code: "report_currency_unused" });
    await expect(
      partyStatement(db, { tenant_id: tenant, party_id: "m2" }, { party_id: "m1", period }, new Date()),
    ).rejects.toMatchObject({ code: "party_not_found" });
  });
});
