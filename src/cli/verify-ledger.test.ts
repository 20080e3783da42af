import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServiceContext } from "../service/context.ts";
import { createParty, openAccount } from "../service/ledger/accounts.ts";
import { postTransaction } from "../service/ledger/post.ts";
import { openDatabase } from "../store/open.ts";
import { newTestTenant } from "../testing/db.ts";
import { run } from "./verify.ts";

// `verify db` checks the ledger as well as the log: a balance raised out of
// band (the log cannot see balances) fails with exit 1.

let stdout = "";
beforeEach(() => {
  stdout = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe("clearsplit verify db: the ledger", () => {
  it("passes a sound ledger and fails one whose balance was raised out of band", async () => {
    const data_dir = mkdtempSync(join(tmpdir(), "cs-verify-"));
    const saved = process.env.CLEARSPLIT_DATA_DIR;
    process.env.CLEARSPLIT_DATA_DIR = data_dir;
    try {
      let db = await openDatabase();
      const ctx: ServiceContext = { db, now: () => new Date() };
      const tenant = await newTestTenant(ctx);
      await createParty(ctx, tenant, { id: "platform", kind: "platform", name: "P" });
      await createParty(ctx, tenant, { id: "m-1", kind: "merchant", name: "M" });
      const clearing = await openAccount(ctx, tenant, {
        party_id: "platform",
        purpose: "clearing",
        currency: "CNY",
        allow_negative: true,
      });
      const held = await openAccount(ctx, tenant, { party_id: "m-1", purpose: "held", currency: "CNY" });
      await postTransaction(ctx, tenant, {
        idempotency_key: "k-1",
        kind: "split",
        entries: [
          { account_id: clearing.id, side: "debit", amount_minor: 10_000n, currency: "CNY" },
          { account_id: held.id, side: "credit", amount_minor: 10_000n, currency: "CNY" },
        ],
      });
      await db.close();
      expect(await run(["db", "--tenant", tenant])).toBe(0);
      expect(stdout).toMatch(/every balance equals its postings/);

      db = await openDatabase();
      await db.query(
        "UPDATE balances SET posted_minor = posted_minor + 100000 WHERE tenant_id = $1 AND account_id = $2",
        [tenant, held.id],
      );
      await db.close();
      stdout = "";
      expect(await run(["db", "--tenant", tenant])).toBe(1);
      expect(stdout).toMatch(/TRIAL_BALANCE/);
      expect(stdout).toMatch(
        new RegExp(`BALANCE +account ${held.id} holds 110000 but its postings sum to 10000`),
      );
    } finally {
      if (saved === undefined) delete process.env.CLEARSPLIT_DATA_DIR;
      else process.env.CLEARSPLIT_DATA_DIR = saved;
    }
  });
});
