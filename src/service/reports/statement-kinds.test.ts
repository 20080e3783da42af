import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_cap from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import example_negative from "../../../examples/orders/b2b2c-merchant-negative.json" with { type: "json" };
import { statement_days_max } from "../../core/limits.ts";
import { day_ms, parsePeriod } from "../../core/reports/period.ts";
import type { Statement } from "../../core/reports/statement-fold.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { openAccount } from "../ledger/accounts.ts";
import { postTransactions } from "../ledger/post.ts";
import { bookOrders } from "../orders/book.ts";
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
const templates = [example_order, example_cap, example_negative];

/** 45 orders over 60 days (none on days 20-24), from the example marketplace's three order shapes. */
function randomOrders(seed: number): (typeof example_order)[] {
  let state = seed;
  const random = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  const orders = [];
  for (let i = 0; i < 45; i++) {
    let day = random(55);
    if (day >= 20) day += 5;
    const template = templates[random(templates.length)]!;
    const paid_at = new Date(start_ms + day * day_ms + random(day_ms)).toISOString();
    orders.push({ ...structuredClone(template), id: `K-${i}`, paid_at } as typeof example_order);
  }
  return orders;
}

function withoutReadState(statement: Statement) {
  const { checkpoint, transactions_after_checkpoint, generated_at, ...rest } = statement;
  return rest;
}

describe("statement movements by kind", () => {
  it("breaks each split into sales, commission, supplier cost, fees and tax, and still reconciles to the unit", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant);
    const orders = randomOrders(3);
    const first = await bookOrders(ctx, tenant, orders.slice(0, 30));
    expect(first.every((result) => result.status === "created")).toBe(true);
    // A release, a settlement and a payout on day 40: periods can cross them.
    const account = (purpose: "held" | "available" | "in_transit" | "paid_out") =>
      openAccount(ctx, tenant, { party_id: "m-1001", purpose, currency: "CNY" });
    const [held, available, in_transit, paid_out] = await Promise.all([
      account("held"),
      account("available"),
      account("in_transit"),
      account("paid_out"),
    ]);
    const [balance] = await partyBalances(db, { tenant_id: tenant, party_id: null }, "m-1001");
    const amount_minor = balance!.held_minor / 2n;
    const move = (kind: string, from: string, to: string, hour: number) => ({
      idempotency_key: `payout-${kind}`,
      kind,
      effective_at: new Date(start_ms + 40 * day_ms + hour * 3_600_000),
      entries: [
        { account_id: from, side: "debit" as const, amount_minor, currency: "CNY" },
        { account_id: to, side: "credit" as const, amount_minor, currency: "CNY" },
      ],
    });
    const moves = await postTransactions(ctx, tenant, [
      move("release", held.id, available.id, 1),
      move("settlement", available.id, in_transit.id, 2),
      move("payout", in_transit.id, paid_out.id, 3),
    ]);
    expect(moves.every((result) => result.status === "created")).toBe(true);
    const keys = new LogKeyStore({ host: "kinds.test" });
    await sequenceAll(ctx, tenant, keys);
    expect(await foldLedgerDays(ctx)).toBeGreaterThanOrEqual(33);
    // The rest is in the journal only: the statement cuts its splits itself.
    const second = await bookOrders(ctx, tenant, orders.slice(30));
    expect(second.every((result) => result.status === "created")).toBe(true);

    const platform_scope = { tenant_id: tenant, party_id: null };
    const periods: [number, number][] = [
      [20, 25], // no activity at all
      [38, 45], // crosses the payout
      [0, 60],
    ];
    let state = 5;
    for (let i = 0; i < 6; i++) {
      state = (state * 48_271) % 2_147_483_647;
      const a = state % 62;
      state = (state * 48_271) % 2_147_483_647;
      periods.push([a, a + 1 + (state % 30)]);
    }
    const unfolded = new Map<string, Statement>();
    for (const party_id of ["m-1001", "s-9", "platform"])
      for (const [a, b] of periods) {
        const from = new Date(start_ms + a * day_ms);
        const to = new Date(start_ms + b * day_ms);
        const period = parsePeriod(from.toISOString(), to.toISOString(), statement_days_max);
        const scope = party_id === "platform" ? platform_scope : { tenant_id: tenant, party_id };
        const statement = await partyStatement(db, scope, { party_id, period }, clock.now());
        unfolded.set(`${party_id} ${a} ${b}`, statement);
        const [opening] = await partyBalances(db, scope, party_id, new Date(statement.opening_as_of));
        const [closing] = await partyBalances(db, scope, party_id, new Date(statement.closing_as_of));
        const net = (x: typeof opening) =>
          x === undefined ? 0n : x.held_minor + x.available_minor + x.in_transit_minor - x.debt_minor;
        expect(statement.opening_minor, `${party_id} opening of [${a}, ${b})`).toBe(net(opening));
        expect(statement.closing_minor, `${party_id} closing of [${a}, ${b})`).toBe(net(closing));
        for (const bucket of statement.buckets) {
          let sum = bucket.opening_minor;
          for (const line of bucket.lines) sum += line.amount_minor;
          expect(sum, `${party_id} ${bucket.bucket} of [${a}, ${b})`).toBe(bucket.closing_minor);
        }
        let total = statement.opening_minor;
        for (const line of statement.lines) total += line.amount_minor;
        expect(total).toBe(statement.closing_minor);
        if (a === 20) expect(statement.lines).toEqual([]);
        if (party_id === "m-1001") {
          // The merchant's sales are what its buyers paid in the period, to the unit (an order
          // whose costs took the merchant's whole share credits it nothing, so it has no lines).
          let paid = 0n;
          for (const order of orders) {
            if (order.lines[0]!.sku === example_negative.lines[0]!.sku) continue;
            const at = Date.parse(order.paid_at);
            if (at >= from.getTime() && at < to.getTime()) paid += BigInt(order.paid_minor);
          }
          expect(statement.lines.find((line) => line.kind === "sales")?.amount_minor ?? 0n).toBe(paid);
        }
      }
    const whole = unfolded.get("m-1001 0 60")!;
    const kinds = whole.lines.map((line) => line.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "sales",
        "commission",
        "supplier_cost",
        "referral_fees",
        "psp_fees",
        "shipping",
      ]),
    );
    expect(kinds).toEqual(expect.arrayContaining(["releases", "payouts"]));
    for (const line of whole.lines)
      if (line.kind !== "sales" && line.kind !== "releases" && line.kind !== "payouts")
        expect(line.amount_minor, line.kind).toBeLessThan(0n);
    // A supplier sees only its own cost; the platform its commission.
    expect(unfolded.get("s-9 0 60")!.lines.map((line) => line.kind)).toEqual(["supplier_cost"]);
    expect(unfolded.get("platform 0 60")!.lines.map((line) => line.kind)).toContain("commission");
    expect(unfolded.get("platform 0 60")!.lines.map((line) => line.kind)).not.toContain("sales");
    const crossing = unfolded.get("m-1001 38 45")!;
    expect(crossing.buckets.find((bucket) => bucket.bucket === "in_transit")!.lines).toEqual([
      { kind: "payouts", amount_minor: 0n },
    ]);

    // Folded or not, every statement is the same.
    await sequenceAll(ctx, tenant, keys);
    expect(await foldLedgerDays(ctx)).toBeGreaterThanOrEqual(15);
    for (const [key, before] of unfolded) {
      const [party_id, a, b] = key.split(" ") as [string, string, string];
      const period = parsePeriod(
        new Date(start_ms + Number(a) * day_ms).toISOString(),
        new Date(start_ms + Number(b) * day_ms).toISOString(),
        statement_days_max,
      );
      const scope = party_id === "platform" ? platform_scope : { tenant_id: tenant, party_id };
      const after = await partyStatement(db, scope, { party_id, period }, clock.now());
      expect(withoutReadState(after), key).toEqual(withoutReadState(before));
    }
  });
});
