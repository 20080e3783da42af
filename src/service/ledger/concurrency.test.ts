import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, TransactionRequest } from "../../core/ledger/types.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase } from "../../testing/db.ts";
import { countJournal, expectLedgerInvariants } from "../../testing/invariants.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, openAccount } from "./accounts.ts";
import { getBalance } from "./ledger-reads.ts";
import { postTransactions } from "./post.ts";

// Parallel writers on shared accounts: on PostgreSQL they really interleave
// (a pool of connections); on PGlite they serialise. Either way no money is
// lost, created or duplicated, and no restricted account is overdrawn.

const writers = 8;
const batches_per_writer = 30;
const transfers_per_batch = 10;

let db: Database;
let ctx: ServiceContext;
beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: () => new Date() };
});
afterAll(async () => db.close());

async function marketplace(
  tenant: string,
): Promise<{ clearing: Account; hot: Account; merchants: Account[] }> {
  await createParty(ctx, tenant, { id: "psp", kind: "psp", name: "PSP" });
  await createParty(ctx, tenant, { id: "plat", kind: "platform", name: "Platform" });
  const merchants: Account[] = [];
  for (let i = 0; i < 4; i++) {
    await createParty(ctx, tenant, { id: `m${i}`, kind: "merchant", name: `m${i}` });
    merchants.push(
      await openAccount(ctx, tenant, { party_id: `m${i}`, purpose: "available", currency: "CNY" }),
    );
  }
  return {
    clearing: await openAccount(ctx, tenant, { party_id: "psp", purpose: "clearing", currency: "CNY" }),
    hot: await openAccount(ctx, tenant, {
      party_id: "plat",
      purpose: "revenue",
      currency: "CNY",
      bucket_count: 16,
    }),
    merchants,
  };
}

describe(`${writers} concurrent writers`, () => {
  it("keep every invariant on shared, restricted and hot accounts, with deadlocks retried transparently", async () => {
    const tenant = await newTestTenant(ctx, "conc");
    const { clearing, hot, merchants } = await marketplace(tenant);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const plan: TransactionRequest[][][] = [];
    for (let w = 0; w < writers; w++) {
      const writer: TransactionRequest[][] = [];
      for (let b = 0; b < batches_per_writer; b++) {
        const batch: TransactionRequest[] = [];
        for (let t = 0; t < transfers_per_batch; t++) {
          const key = `w${w}-b${b}-t${t}`;
          const merchant = merchants[random(merchants.length)]!;
          const other = merchants[random(merchants.length)]!;
          if (random(5) !== 0 && other.id !== merchant.id) {
            // A debit of a restricted account that may or may not fit.
            batch.push(transferRequest(key, merchant, other, BigInt(1 + random(400))));
          } else {
            const paid = BigInt(100 + random(300));
            const fee = paid / 10n;
            batch.push({
              idempotency_key: key,
              kind: "split",
              entries: [
                { account_id: clearing.id, side: "debit", amount_minor: paid, currency: "CNY" },
                { account_id: merchant.id, side: "credit", amount_minor: paid - fee, currency: "CNY" },
                { account_id: hot.id, side: "credit", amount_minor: fee, currency: "CNY" },
              ],
            });
          }
        }
        writer.push(batch);
      }
      plan.push(writer);
    }

    const outcomes = await Promise.all(
      plan.map(async (writer) => {
        const statuses = new Map<string, string>();
        for (const batch of writer) {
          const results = await postTransactions(ctx, tenant, batch);
          for (const [i, r] of results.entries()) {
            statuses.set(batch[i]!.idempotency_key, r.status === "rejected" ? r.error.code : r.status);
          }
        }
        return statuses;
      }),
    );
    const first = new Map(outcomes.flatMap((statuses) => [...statuses]));
    expect(first.size).toBe(writers * batches_per_writer * transfers_per_batch);
    expect(new Set(first.values())).toEqual(new Set(["created", "insufficient_funds"]));
    let created = BigInt([...first.values()].filter((s) => s === "created").length);
    expect((await countJournal(db, tenant)).transactions).toBe(created);

    // The same requests again, concurrently. A booked key is a replay, never a
    // second booking; a refused one was never booked, so it may fit now.
    const again = await Promise.all(
      plan.map((writer) => postTransactions(ctx, tenant, writer.flat().slice(0, 100))),
    );
    for (const [w, results] of again.entries()) {
      results.forEach((r, i) => {
        const key = plan[w]!.flat()[i]!.idempotency_key;
        if (first.get(key) === "created") expect(r.status, key).toBe("replayed");
        else if (r.status === "created") created++;
      });
    }
    expect((await countJournal(db, tenant)).transactions).toBe(created);

    const hot_balance = await getBalance(db, tenant, hot.id);
    const [buckets] = await db.query<{ used: bigint }>(
      "SELECT count(*) FILTER (WHERE posted_minor <> 0)::int8 AS used FROM balances WHERE tenant_id = $1 AND account_id = $2",
      [tenant, hot.id],
    );
    expect(hot_balance.posted_minor > 0n).toBe(true);
    expect(buckets!.used > 1n).toBe(true);
    await expectLedgerInvariants(db, tenant);
  });
});

function transferRequest(key: string, from: Account, to: Account, amount_minor: bigint): TransactionRequest {
  return {
    idempotency_key: key,
    kind: "transfer",
    entries: [
      { account_id: from.id, side: "debit", amount_minor, currency: "CNY" },
      { account_id: to.id, side: "credit", amount_minor, currency: "CNY" },
    ],
  };
}
