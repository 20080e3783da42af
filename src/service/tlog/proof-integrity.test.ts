import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock, turnTriggersOffLocally } from "../../testing/db.ts";
import { verifyBundle } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { proofBundle } from "./proofs.ts";
import { LogKeyStore, logVkey } from "./signing-keys.ts";
import { bookSales, logFixture, sequenceAll } from "./testing.ts";

let db: Database;
let ctx: ServiceContext;
const keys = new LogKeyStore({ host: "ledger.test", secret: "integrity-test-secret" });

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: testClock().now };
});
afterAll(async () => db.close());

async function tamper(sql: string, params: unknown[]): Promise<void> {
  await db.transaction(async (tx) => {
    await turnTriggersOffLocally(tx);
    await tx.query(sql, params);
  });
}

describe("proof bundles of changed records", () => {
  // Proves the one-query rebuild of a single journal record (the proof path)
  // rebuilds the record the writer hashed, and refuses a bundle once a posting's
  // amount, or the owner of an account it touches, was changed behind ClearSplit's back.
  it("serves a bundle that verifies, then refuses one whose amount or account owner changed", async () => {
    const tenant = await newTestTenant(ctx);
    const f = await logFixture(ctx, tenant);
    const [first, second] = await bookSales(ctx, f, [
      { key: "a", merchant: "m1", amount_minor: 1000n },
      { key: "b", merchant: "m2", amount_minor: 2000n },
    ]);
    await sequenceAll(ctx, tenant, keys);
    const vkey = (await logVkey(db, tenant))!;
    for (const id of [first!, second!]) {
      const bundle = await proofBundle(ctx, tenant, id, { party_id: null });
      expect((await verifyBundle(bundle, [vkey])).leafIndex).toBeGreaterThanOrEqual(0n);
    }
    await tamper(
      "UPDATE postings SET amount_minor = amount_minor + 1 WHERE tenant_id = $1 AND transaction_id = $2 AND account_id = $3",
      [tenant, first, f.m1.id],
    );
    await expect(proofBundle(ctx, tenant, first!, { party_id: null })).rejects.toThrow(
      /no longer matches the log/,
    );
    await tamper("UPDATE accounts SET purpose = 'held' WHERE tenant_id = $1 AND id = $2", [tenant, f.m2.id]);
    await expect(proofBundle(ctx, tenant, second!, { party_id: null })).rejects.toThrow(
      /no longer matches the log/,
    );
  });
});
