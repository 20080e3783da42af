import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import { openDatabase } from "../../store/open.ts";
import { newTestTenant, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { bookOrders } from "../orders/book.ts";
import { completeOrder, releaseDue } from "../orders/order-lifecycle.ts";
import { runSettlement } from "./settlement-run.ts";

const child_script = join(import.meta.dirname, "../../testing/settle-child.ts");

/** Runs the child until it has settled one party, then kills it with SIGKILL. */
function settleOneAndKill(env: Record<string, string>): Promise<{ lines: string[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", child_script], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.stdout.on("data", (chunk) => {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      if (lines.length >= 1) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === null) reject(new Error(`child exited ${code} before it was killed: ${stderr}`));
      else resolve({ lines, signal });
    });
  });
}

describe("settlement crash", () => {
  it("a run killed between two parties, then run again, pays every party exactly once", async () => {
    // PGlite is one process's database: the parent closes it before the child opens the same directory.
    const data_dir = process.env.DATABASE_URL ? null : mkdtempSync(join(tmpdir(), "clearsplit-crash-"));
    try {
      const clock = testClock("2026-11-25T10:00:00Z");
      let db = await openDatabase({ data_dir, connections_max: 4 });
      const ctx = { db, now: clock.now };
      const tenant = await newTestTenant(ctx);
      await seedExampleMarketplace(ctx, tenant, 60_000);
      await bookOrders(ctx, tenant, [order_json]);
      await completeOrder(ctx, tenant, order_json.id);
      clock.advance(61_000);
      expect(await releaseDue(ctx, tenant)).toBe(1);
      clock.advance(86_400_000);
      await db.close();

      const killed = await settleOneAndKill({
        SETTLE_TENANT: tenant,
        SETTLE_AS_OF: clock.now().toISOString(),
        ...(data_dir === null ? {} : { SETTLE_DATA_DIR: data_dir }),
      });
      expect(killed.signal).toBe("SIGKILL");
      expect(JSON.parse(killed.lines[0]!)).toMatchObject({ index: 0, status: "paid" });

      db = await openDatabase({ data_dir, connections_max: 4 });
      const after_crash = await db.query<{ party_id: string }>(
        "SELECT party_id FROM payouts WHERE tenant_id = $1",
        [tenant],
      );
      expect(after_crash).toHaveLength(1);
      const rerun = await runSettlement({ db, now: clock.now }, tenant, { trigger: "cli" });
      expect(rerun.replayed.map((item) => item.party_id)).toEqual([after_crash[0]!.party_id]);
      expect(rerun.paid.length).toBeGreaterThan(0);
      const counts = await db.query<{ party_id: string; n: bigint }>(
        `SELECT party_id, count(*)::int8 AS n FROM payouts WHERE tenant_id = $1 GROUP BY party_id`,
        [tenant],
      );
      expect(counts.every((row) => row.n === 1n)).toBe(true);
      const [settlements] = await db.query<{ n: bigint }>(
        "SELECT count(*)::int8 AS n FROM journal_transactions WHERE tenant_id = $1 AND kind = 'settlement'",
        [tenant],
      );
      expect(settlements!.n).toBe(BigInt(counts.length));
      // Nothing settleable is left in available: the re-run paid everyone the crash skipped.
      const left = await db.query<{ party_id: string }>(
        `SELECT a.party_id FROM accounts a JOIN balances b ON b.tenant_id = a.tenant_id AND b.account_id = a.id
           JOIN parties p ON p.tenant_id = a.tenant_id AND p.id = a.party_id
          WHERE a.tenant_id = $1 AND a.purpose = 'available' AND p.kind NOT IN ('platform', 'psp', 'tax')
          GROUP BY a.party_id HAVING sum(b.posted_minor) <> 0`,
        [tenant],
      );
      expect(left).toEqual([]);
      await expectLedgerInvariants(db, tenant);
      await db.close();
    } finally {
      if (data_dir !== null) rmSync(data_dir, { recursive: true, force: true });
    }
  }, 120_000);
});
