import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import type { Account, TransactionRequest } from "../../core/ledger/types.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { countJournal, expectLedgerInvariants } from "../../testing/invariants.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, openAccount } from "./accounts.ts";
import { createHold, expireHolds, postHold, voidHold } from "./holds.ts";
import { getBalance, getPostedBalanceAsOf, listEntries } from "./ledger-reads.ts";
import { postTransaction, postTransactions } from "./post.ts";

let db: Database;
const clock = testClock();
let ctx: ServiceContext;

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: clock.now };
});
afterAll(async () => db.close());

async function setup(): Promise<{
  tenant: string;
  clearing: Account;
  merchant: Account;
  platform: Account;
  usd: Account;
}> {
  const tenant = await newTestTenant(ctx);
  await createParty(ctx, tenant, { id: "psp", kind: "psp", name: "PSP" });
  await createParty(ctx, tenant, { id: "m1", kind: "merchant", name: "Merchant 1" });
  await createParty(ctx, tenant, { id: "plat", kind: "platform", name: "Platform" });
  return {
    tenant,
    clearing: await openAccount(ctx, tenant, { party_id: "psp", purpose: "clearing", currency: "CNY" }),
    merchant: await openAccount(ctx, tenant, { party_id: "m1", purpose: "available", currency: "CNY" }),
    platform: await openAccount(ctx, tenant, {
      party_id: "plat",
      purpose: "revenue",
      currency: "CNY",
      bucket_count: 8,
    }),
    usd: await openAccount(ctx, tenant, { party_id: "m1", purpose: "available", currency: "USD" }),
  };
}

function split(
  key: string,
  a: { clearing: Account; merchant: Account; platform: Account },
  merchant: bigint,
  platform: bigint,
): TransactionRequest {
  return {
    idempotency_key: key,
    kind: "split",
    entries: [
      { account_id: a.clearing.id, side: "debit", amount_minor: merchant + platform, currency: "CNY" },
      { account_id: a.merchant.id, side: "credit", amount_minor: merchant, currency: "CNY" },
      { account_id: a.platform.id, side: "credit", amount_minor: platform, currency: "CNY" },
    ],
  };
}

describe("ledger", () => {
  it("books a balanced transaction and moves balances in the same database transaction", async () => {
    const a = await setup();
    const { transaction, replayed } = await postTransaction(ctx, a.tenant, split("k1", a, 900n, 100n));
    expect(replayed).toBe(false);
    expect(transaction.entries.map((e) => e.amount_minor)).toEqual([-1000n, 900n, 100n]);
    expect((await getBalance(db, a.tenant, a.merchant.id)).available_minor).toBe(900n);
    expect((await getBalance(db, a.tenant, a.platform.id)).posted_minor).toBe(100n);
    expect((await getBalance(db, a.tenant, a.clearing.id)).posted_minor).toBe(-1000n);
    await expectLedgerInvariants(db, a.tenant);
  });

  it("returns the original for a replayed key and refuses the key with different content, naming it", async () => {
    const a = await setup();
    const first = await postTransaction(ctx, a.tenant, split("same", a, 50n, 5n));
    const again = await postTransaction(ctx, a.tenant, split("same", a, 50n, 5n));
    expect(again.replayed).toBe(true);
    expect(again.transaction.id).toBe(first.transaction.id);
    await expect(postTransaction(ctx, a.tenant, split("same", a, 51n, 5n))).rejects.toMatchObject({
      code: "idempotency_key_conflict",
      message: expect.stringContaining('"same"'),
    });
    // Twice in one batch: booked once, the copy is a replay of the first.
    const results = await postTransactions(ctx, a.tenant, [split("dup", a, 1n, 1n), split("dup", a, 1n, 1n)]);
    expect(results.map((r) => r.status)).toEqual(["created", "replayed"]);
    expect((await countJournal(db, a.tenant)).transactions).toBe(2n);
    await expectLedgerInvariants(db, a.tenant);
  });

  it("rejects each kind of bad input with a typed error naming the field, and writes nothing", async () => {
    const a = await setup();
    const base = split("bad", a, 10n, 1n);
    const entry = base.entries[1]!;
    const cases: [string, TransactionRequest, string, string][] = [
      [
        "unbalanced",
        { ...base, entries: [base.entries[0]!, { ...entry, amount_minor: 999n }, base.entries[2]!] },
        "transaction_unbalanced",
        "entries",
      ],
      [
        "unknown account",
        { ...base, entries: [base.entries[0]!, { ...entry, account_id: newId() }, base.entries[2]!] },
        "account_not_found",
        "entries[1].account_id",
      ],
      [
        "currency mismatch",
        { ...base, entries: base.entries.map((e) => ({ ...e, currency: "USD" })) },
        "currency_mismatch",
        "entries[0].currency",
      ],
      [
        "zero amount",
        {
          ...base,
          entries: [
            { ...base.entries[0]!, amount_minor: 0n },
            { ...entry, amount_minor: 0n },
          ],
        },
        "amount_not_positive",
        "entries[0].amount_minor",
      ],
      [
        "negative amount",
        {
          ...base,
          entries: [
            { ...base.entries[0]!, amount_minor: -5n },
            { ...entry, amount_minor: -5n },
          ],
        },
        "amount_not_positive",
        "entries[0].amount_minor",
      ],
      [
        "over the limit",
        {
          ...base,
          entries: [
            { ...base.entries[0]!, amount_minor: 2n ** 53n },
            { ...entry, amount_minor: 2n ** 53n },
          ],
        },
        "amount_too_large",
        "entries[0].amount_minor",
      ],
      [
        "malformed currency",
        { ...base, entries: base.entries.map((e) => ({ ...e, currency: "cny" })) },
        "currency_invalid",
        "entries[0].currency",
      ],
      ["one entry", { ...base, entries: [base.entries[0]!] }, "entries_count_invalid", "entries"],
    ];
    for (const [label, request, code, field] of cases) {
      const [result] = await postTransactions(ctx, a.tenant, [request]);
      expect(result?.status, label).toBe("rejected");
      if (result?.status === "rejected") {
        expect(result.error.code, label).toBe(code);
        expect(result.error.field, label).toBe(field);
        expect(result.error.message, label).toContain(field.split(".")[0]!.split("[")[0]!);
      }
    }
    expect(await countJournal(db, a.tenant)).toEqual({ transactions: 0n, postings: 0n, holds: 0n });
    await expectLedgerInvariants(db, a.tenant);
  });

  it("never takes a restricted account below zero, and one bad request does not sink its batch", async () => {
    const a = await setup();
    await postTransaction(ctx, a.tenant, split("fund", a, 100n, 0n + 1n));
    const take = (key: string, amount: bigint): TransactionRequest => ({
      idempotency_key: key,
      kind: "payout",
      entries: [
        { account_id: a.merchant.id, side: "debit", amount_minor: amount, currency: "CNY" },
        { account_id: a.clearing.id, side: "credit", amount_minor: amount, currency: "CNY" },
      ],
    });
    const results = await postTransactions(ctx, a.tenant, [
      take("t1", 60n),
      take("t2", 60n),
      take("t3", 40n),
    ]);
    expect(results.map((r) => r.status)).toEqual(["created", "rejected", "created"]);
    expect(results[1]).toMatchObject({
      error: { code: "insufficient_funds", field: "entries[0].account_id" },
    });
    expect((await getBalance(db, a.tenant, a.merchant.id)).available_minor).toBe(0n);
    await expectLedgerInvariants(db, a.tenant);
  });

  it("refuses UPDATE and DELETE of booked rows in raw SQL", async () => {
    const a = await setup();
    await postTransaction(ctx, a.tenant, split("immutable", a, 7n, 3n));
    await expect(
      db.query("UPDATE postings SET amount_minor = amount_minor + 1 WHERE tenant_id = $1", [a.tenant]),
    ).rejects.toThrow(/append-only/);
    await expect(db.query("DELETE FROM postings WHERE tenant_id = $1", [a.tenant])).rejects.toThrow(
      /append-only/,
    );
    await expect(
      db.query("UPDATE journal_transactions SET kind = 'x' WHERE tenant_id = $1", [a.tenant]),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.query("DELETE FROM journal_transactions WHERE tenant_id = $1", [a.tenant]),
    ).rejects.toThrow(/append-only/);
    await expectLedgerInvariants(db, a.tenant);
  });

  it("reads balances as of a past instant and pages entries with a cursor", async () => {
    const a = await setup();
    const t0 = new Date("2026-11-01T00:00:00Z");
    for (let day = 0; day < 5; day++) {
      await postTransaction(ctx, a.tenant, {
        ...split(`d${day}`, a, 10n, 1n),
        effective_at: new Date(t0.getTime() + day * 86_400_000),
      });
    }
    expect(await getPostedBalanceAsOf(db, a.tenant, a.merchant.id, new Date("2026-11-03T12:00:00Z"))).toBe(
      30n,
    );
    expect(await getPostedBalanceAsOf(db, a.tenant, a.merchant.id, new Date("2026-10-01T00:00:00Z"))).toBe(
      0n,
    );
    const seen: bigint[] = [];
    let cursor: string | undefined;
    do {
      const page = await listEntries(db, a.tenant, a.merchant.id, { cursor, limit: 2 });
      seen.push(...page.items.map((item) => item.amount_minor));
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual([10n, 10n, 10n, 10n, 10n]);
    await expect(listEntries(db, a.tenant, a.merchant.id, { cursor: "bogus" })).rejects.toMatchObject({
      code: "cursor_invalid",
    });
  });
});

describe("two-phase holds", () => {
  it("reserves, posts in part and releases the rest", async () => {
    const a = await setup();
    await postTransaction(ctx, a.tenant, split("fund", a, 100n, 1n));
    const hold = await createHold(ctx, a.tenant, {
      idempotency_key: "h1",
      source_account_id: a.merchant.id,
      destination_account_id: a.clearing.id,
      amount_minor: 80n,
      currency: "CNY",
    });
    expect((await getBalance(db, a.tenant, a.merchant.id)).available_minor).toBe(20n);
    await expect(
      createHold(ctx, a.tenant, {
        idempotency_key: "h2",
        source_account_id: a.merchant.id,
        destination_account_id: a.clearing.id,
        amount_minor: 21n,
        currency: "CNY",
      }),
    ).rejects.toMatchObject({ code: "insufficient_funds" });
    await expect(
      postHold(ctx, a.tenant, { hold_id: hold.id, idempotency_key: "p1", amount_minor: 81n }),
    ).rejects.toMatchObject({
      code: "hold_amount_exceeded",
      field: "amount_minor",
    });
    const posted = await postHold(ctx, a.tenant, {
      hold_id: hold.id,
      idempotency_key: "p1",
      amount_minor: 50n,
    });
    expect(posted.status).toBe("posted");
    const replay = await postHold(ctx, a.tenant, {
      hold_id: hold.id,
      idempotency_key: "p1",
      amount_minor: 50n,
    });
    expect(replay.transaction_id).toBe(posted.transaction_id);
    const balance = await getBalance(db, a.tenant, a.merchant.id);
    expect([balance.posted_minor, balance.pending_out_minor, balance.available_minor]).toEqual([
      50n,
      0n,
      50n,
    ]);
    await expectLedgerInvariants(db, a.tenant);
  });

  it("refuses a post after a void and after expiry, writing nothing", async () => {
    const a = await setup();
    await postTransaction(ctx, a.tenant, split("fund", a, 100n, 1n));
    const request = {
      source_account_id: a.merchant.id,
      destination_account_id: a.clearing.id,
      amount_minor: 30n,
      currency: "CNY",
    };
    const voided = await createHold(ctx, a.tenant, { ...request, idempotency_key: "v" });
    await voidHold(ctx, a.tenant, voided.id);
    await expect(
      postHold(ctx, a.tenant, { hold_id: voided.id, idempotency_key: "pv" }),
    ).rejects.toMatchObject({ code: "hold_voided" });
    const expiring = await createHold(ctx, a.tenant, {
      ...request,
      idempotency_key: "e",
      expires_at: new Date(clock.now().getTime() + 60_000),
    });
    clock.advance(61_000);
    const before = await countJournal(db, a.tenant);
    await expect(
      postHold(ctx, a.tenant, { hold_id: expiring.id, idempotency_key: "pe" }),
    ).rejects.toMatchObject({ code: "hold_expired" });
    expect(await countJournal(db, a.tenant)).toEqual(before);
    expect((await getBalance(db, a.tenant, a.merchant.id)).available_minor).toBe(70n);
    expect(await expireHolds(ctx, a.tenant)).toBe(1);
    expect((await getBalance(db, a.tenant, a.merchant.id)).available_minor).toBe(100n);
    await expectLedgerInvariants(db, a.tenant);
  });
});
