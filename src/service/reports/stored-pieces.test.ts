import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_cap from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import example_negative from "../../../examples/orders/b2b2c-merchant-negative.json" with { type: "json" };
import { type SplitCredit, splitCreditsIn } from "../../store/account-daily-sql.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { LogKeyStore } from "../tlog/signing-keys.ts";
import { sequenceAll } from "../tlog/testing.ts";
import { storedPieces } from "./fold.ts";
import { postingKey, splitPostingPieces } from "./split-pieces.ts";

// The booking stores each party's pieces by kind (migration 056) so the fold
// need not recompute the split; they must be exactly what recomputing gives.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

describe("split pieces stored at booking", () => {
  it("equal the pieces recomputed from the facts, for every credit", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant);
    const orders = [example_order, example_cap, example_negative].map((template, index) => ({
      ...structuredClone(template),
      id: `SP-${index}`,
      paid_at: "2026-11-20T08:00:00Z",
    }));
    const results = await bookOrders(ctx, tenant, orders);
    expect(results.map((result) => result.status)).toEqual(["created", "created", "created"]);
    await sequenceAll(ctx, tenant, new LogKeyStore());
    const credits = await db.transaction((tx) =>
      splitCreditsIn(tx, tenant, { after_leaf: -1n, through_leaf: 1_000n, leaves: 3 }),
    );
    expect(credits.length).toBeGreaterThanOrEqual(6);
    expect(credits.every((credit) => credit.stored_pieces !== null)).toBe(true);
    const stored = storedPieces(credits);
    expect(stored.unstored).toEqual([]);
    const recomputed = await db.transaction((tx) =>
      splitPostingPieces(
        tx,
        tenant,
        credits.map((credit) => ({ ...credit, stored_pieces: null })),
      ),
    );
    const fromRecompute = credits.flatMap((credit) =>
      (recomputed.get(postingKey(credit.transaction_id, credit.seq)) ?? []).map((piece) => ({
        transaction_id: credit.transaction_id,
        seq: credit.seq,
        ...piece,
      })),
    );
    const sortKey = (piece: { transaction_id: string; seq: number; kind: string }) =>
      `${piece.transaction_id}#${piece.seq}#${piece.kind}`;
    const byKey = (a: { transaction_id: string; seq: number; kind: string }, b: typeof a) =>
      sortKey(a) < sortKey(b) ? -1 : 1;
    expect(fromRecompute.length).toBeGreaterThan(credits.length);
    expect([...stored.pieces].sort(byKey)).toEqual([...fromRecompute].sort(byKey));
  });

  it("leave a credit whole when the stored pieces are malformed or do not sum to it", () => {
    const credit = (stored_pieces: Record<string, string> | null, amount_minor = 100n): SplitCredit => ({
      transaction_id: "0190c0de-0000-7000-8000-000000000001",
      seq: 1,
      order_id: "O-1",
      account_id: "0190c0de-0000-7000-8000-000000000002",
      party_id: "m-1",
      amount_minor,
      stored_pieces,
    });
    const good = storedPieces([credit({ "split:sales": "120", "split:commission": "-20" })]);
    expect(good.pieces.map((piece) => [piece.kind, piece.amount_minor])).toEqual([
      ["split:sales", 120n],
      ["split:commission", -20n],
    ]);
    expect(storedPieces([credit({ "split:sales": "99" })]).pieces).toEqual([]);
    expect(storedPieces([credit({ sales: "100" })]).pieces).toEqual([]);
    expect(storedPieces([credit({ "split:sales": "1e2" })]).pieces).toEqual([]);
    expect(storedPieces([credit({ "split:sales": 100 as unknown as string })]).pieces).toEqual([]);
    const twice = storedPieces([
      credit({ "split:sales": "100" }),
      { ...credit({ "split:sales": "100" }), seq: 2 },
    ]);
    expect(twice.pieces).toEqual([]);
    expect(storedPieces([credit(null)]).unstored).toHaveLength(1);
  });
});
