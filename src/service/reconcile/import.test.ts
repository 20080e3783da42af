import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { refundOrder } from "../orders/order-lifecycle.ts";
import { recordSha256 } from "../tlog/record-enqueue.ts";
import { rebuildRecords } from "../tlog/record-rebuild.ts";
import { importBill } from "./import.ts";

let db: Database;
let dir: string;
beforeAll(async () => {
  db = await openTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "recon-"));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const bills = join(import.meta.dirname, "../../../test/bills");

async function ledger() {
  const clock = testClock("2026-11-26T02:00:00Z");
  const ctx: ServiceContext = { db, now: clock.now };
  const tenant = await newTestTenant(ctx);
  await seedExampleMarketplace(ctx, tenant, 60_000);
  const results = await bookOrders(ctx, tenant, [
    order_json,
    // Paid through WeChat the same day, and absent from the bill.
    {
      ...order_json,
      id: "WST-NOT-BILLED",
      paid_at: "2026-11-25T12:00:00Z",
      psp: { ...order_json.psp, reference: "4200000000000000000000000009" },
    },
  ]);
  expect(results.map((result) => result.status)).toEqual(["created", "created"]);
  await refundOrder(ctx, tenant, order_json.id, { refund_id: "r1", amount_minor: 100_000 }, "refund");
  return { ctx, tenant };
}

describe("reconciliation import", () => {
  it("matches by reference and order id, finds what either side lacks, and replays the same file", async () => {
    const { ctx, tenant } = await ledger();
    // The bill's fee for the order is 16.45200: 0.2 fen off the ledger's 16.45, so exact matching flags it.
    const strict = await importBill(ctx, tenant, { provider: "wechat", path: join(bills, "wechat-v3.csv") });
    expect(strict.replayed).toBe(false);
    expect(strict.counts).toEqual({
      matched: 1,
      missing_in_ledger: 1,
      missing_in_bill: 1,
      amount_mismatch: 0,
      fee_mismatch: 1,
      duplicate: 0,
    });
    const items = await db.query<{
      status: string;
      order_id: string | null;
      bill_line: number | null;
      kind: string;
    }>(
      "SELECT status, order_id, bill_line, kind FROM reconciliation_items WHERE tenant_id = $1 ORDER BY seq",
      [tenant],
    );
    expect(items).toEqual([
      { status: "fee_mismatch", order_id: order_json.id, bill_line: 2, kind: "payment" },
      { status: "missing_in_ledger", order_id: "WST20261125000124", bill_line: 3, kind: "payment" },
      { status: "matched", order_id: order_json.id, bill_line: 4, kind: "refund" },
      { status: "missing_in_bill", order_id: "WST-NOT-BILLED", bill_line: null, kind: "payment" },
    ]);
    const again = await importBill(ctx, tenant, { provider: "wechat", path: join(bills, "wechat-v3.csv") });
    expect(again).toMatchObject({ replayed: true, import_id: strict.import_id, counts: strict.counts });
    const [imports] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM bill_imports WHERE tenant_id = $1",
      [tenant],
    );
    expect(imports!.n).toBe(1n);
    const events = await db.query<{ type: string }>(
      "SELECT type FROM events WHERE tenant_id = $1 AND type LIKE 'reconciliation.%'",
      [tenant],
    );
    expect(events.map((event) => event.type)).toEqual(["reconciliation.exception"]);
    const records = await db.query<{ kind: string }>(
      "SELECT kind FROM log_records WHERE tenant_id = $1 AND id = $2",
      [tenant, strict.import_id],
    );
    expect(records).toEqual([{ kind: "reconciliation" }]);
    // The logged record rebuilds from the stored import to the same hash.
    const [logged] = await db.query<{ salt: Uint8Array; record_sha256: Uint8Array }>(
      "SELECT salt, record_sha256 FROM log_records WHERE tenant_id = $1 AND id = $2",
      [tenant, strict.import_id],
    );
    const rebuilt = await rebuildRecords(db, tenant, "reconciliation", [strict.import_id]);
    expect(
      recordSha256(logged!.salt, rebuilt.get(strict.import_id)).equals(Buffer.from(logged!.record_sha256)),
    ).toBe(true);
  });

  it("matches within a tolerance, and marks a repeated bill row as a duplicate", async () => {
    const { ctx, tenant } = await ledger();
    const lines = readFileSync(join(bills, "wechat-v3.csv"), "utf8").split("\r\n");
    // The order's row twice; the summary is dropped (it would disagree).
    const path = join(dir, "duplicate.csv");
    writeFileSync(path, [lines[0], lines[1], lines[1], lines[3]].join("\r\n"));
    const result = await importBill(ctx, tenant, { provider: "wechat", path, tolerance_minor: 1n });
    expect(result.counts).toMatchObject({ matched: 2, duplicate: 1, missing_in_bill: 1, fee_mismatch: 0 });
  });
});
