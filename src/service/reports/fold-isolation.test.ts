import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransactionRequest } from "../../core/ledger/types.ts";
import type { Database } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import { newTestTenant, openOwnTestDatabase, testClock, turnTriggersOffLocally } from "../../testing/db.ts";
import type { ServiceContext } from "../context.ts";
import { createParty, openAccount } from "../ledger/accounts.ts";
import { postTransactions } from "../ledger/post.ts";
import { LogKeyStore } from "../tlog/signing-keys.ts";
import { sequenceAll } from "../tlog/testing.ts";
import { foldLedgerDays } from "./fold.ts";

// One tenant whose log is damaged out of band (the record row of its newest leaf is gone, where the fold moves its cursor) must not stop the
// report fold of the tenants after it (src/service/tenant-rounds.ts). Before, the round threw at
// the damaged tenant and every tenant after it in the round's order stayed unfolded for good.

// A database of its own: while the damage lasts, every fold round without a handler in any other
// file sharing the suite's database would throw for it (as it should).
let db: Database;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ db, close } = await openOwnTestDatabase("fold_isolation"));
}, 120_000);
afterAll(async () => close());

async function bookedTenant(ctx: ServiceContext, prefix: string, keys: LogKeyStore, sales: number) {
  const tenant = await newTestTenant(ctx, prefix);
  await createParty(ctx, tenant, { id: "psp", kind: "psp", name: "PSP" });
  await createParty(ctx, tenant, { id: "m1", kind: "merchant", name: "Merchant" });
  const clearing = await openAccount(ctx, tenant, { party_id: "psp", purpose: "clearing", currency: "CNY" });
  const held = await openAccount(ctx, tenant, { party_id: "m1", purpose: "held", currency: "CNY" });
  const book = async (from: number, count: number) => {
    const requests: TransactionRequest[] = Array.from({ length: count }, (_, i) => ({
      idempotency_key: `sale-${from + i}`,
      kind: "split",
      effective_at: ctx.now(),
      entries: [
        { account_id: clearing.id, side: "debit", amount_minor: BigInt(100 + i), currency: "CNY" },
        { account_id: held.id, side: "credit", amount_minor: BigInt(100 + i), currency: "CNY" },
      ],
    }));
    const results = await postTransactions(ctx, tenant, requests);
    expect(results.every((result) => result.status === "created")).toBe(true);
    await sequenceAll(ctx, tenant, keys);
  };
  await book(0, sales);
  return { tenant, book };
}

async function foldedThrough(tenant: string): Promise<{ folded: number; last: number }> {
  const [row] = await db.query<{ folded: number | null; last: number }>(
    `SELECT (SELECT leaf_index FROM report_fold_cursors WHERE tenant_id = $1)::int8::float8 AS folded,
            (SELECT max(leaf_index) FROM log_leaves WHERE tenant_id = $1)::int8::float8 AS last`,
    [tenant],
  );
  return { folded: row!.folded ?? -1, last: row!.last };
}

describe("the report fold, tenant by tenant", () => {
  it("folds every other tenant past one whose log lost a record, and names the damaged one", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const keys = new LogKeyStore({ host: "fold-isolation.test" });
    // "fa-…" sorts before "fb-…": the damaged tenant comes first in the round.
    const damaged = await bookedTenant(ctx, "fa", keys, 5);
    const healthy = await bookedTenant(ctx, "fb", keys, 7);
    const removed = await inTransaction(db, async (tx) => {
      await turnTriggersOffLocally(tx);
      return tx.query<{ row: string }>(
        `DELETE FROM log_records r WHERE tenant_id = $1
            AND id = (SELECT record_id FROM log_leaves WHERE tenant_id = $1 ORDER BY leaf_index DESC LIMIT 1)
          RETURNING to_jsonb(r)::text AS row`,
        [damaged.tenant],
      );
    });
    expect(removed).toHaveLength(1);
    try {
      await foldPastDamage(ctx, damaged.tenant, healthy);
    } finally {
      // Put the record back, as an operator would restore it.
      await inTransaction(db, async (tx) => {
        await turnTriggersOffLocally(tx);
        await tx.query(
          "INSERT INTO log_records SELECT * FROM jsonb_populate_record(NULL::log_records, $1::text::jsonb)",
          [removed[0]!.row],
        );
      });
    }
    // Repaired, the damaged tenant folds again like any other.
    const failed = new Set<string>();
    await foldLedgerDays(ctx, (_error, tenant_id) => failed.add(tenant_id));
    expect(failed.has(damaged.tenant)).toBe(false);
    const repaired = await foldedThrough(damaged.tenant);
    expect(repaired.folded).toBe(repaired.last);
  }, 60_000);
});

async function foldPastDamage(
  ctx: ServiceContext,
  damaged: string,
  healthy: { tenant: string; book: (from: number, count: number) => Promise<void> },
): Promise<void> {
  const failed = new Map<string, unknown>();
  await foldLedgerDays(ctx, (error, tenant_id) => failed.set(tenant_id, error));
  expect(failed.has(damaged)).toBe(true);
  expect(failed.has(healthy.tenant)).toBe(false);
  const after_first = await foldedThrough(healthy.tenant);
  expect(after_first.folded).toBe(after_first.last);
  const stuck = await foldedThrough(damaged);
  expect(stuck.folded).toBeLessThan(stuck.last);

  // With no handler the round still folds the healthy tenant, then throws for the damaged one.
  await healthy.book(100, 3);
  await expect(foldLedgerDays(ctx)).rejects.toThrow();
  const after_second = await foldedThrough(healthy.tenant);
  expect(after_second.last).toBeGreaterThan(after_first.last);
  expect(after_second.folded).toBe(after_second.last);
}
