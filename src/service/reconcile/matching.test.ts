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
import { completeOrder, refundOrder, releaseDue } from "../orders/order-lifecycle.ts";
import { runSettlement } from "../settlement/settlement-run.ts";
import { importBill } from "./import.ts";

// Matching beyond one-to-one: a payment near midnight is judged by the bill
// that has it, within the named date tolerance; a row found only by our order
// id must agree on the date; a refund the ledger has and the bill lacks is
// missing_in_bill; one bill row pays a whole settlement run, and several rows
// pay one payout.

let db: Database;
let dir: string;
beforeAll(async () => {
  db = await openTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "recon-match-"));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const bills = join(import.meta.dirname, "../../../test/bills");
const wechat_header = readFileSync(join(bills, "wechat-v3.csv"), "utf8").split("\r\n")[0]!;

/** One WeChat v3 detail row (27 cells, each with its backtick). */
function wechatRow(row: {
  time: string;
  transaction_id: string;
  order_id: string;
  refund?: { id: string; merchant_id: string; amount: string };
  amount: string;
  fee: string;
}): string {
  const cells = [
    row.time,
    "wx2421b1c4370ec43b",
    "1900000109",
    "",
    "",
    row.transaction_id,
    row.order_id,
    "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    "JSAPI",
    row.refund === undefined ? "SUCCESS" : "REFUND",
    "CMB_CREDIT",
    "CNY",
    row.refund === undefined ? row.amount : "0.00",
    "0.00",
    row.refund?.id ?? "0",
    row.refund?.merchant_id ?? "0",
    row.refund?.amount ?? "0.00",
    "0.00",
    row.refund === undefined ? "" : "ORIGINAL",
    row.refund === undefined ? "" : "SUCCESS",
    "Order",
    "",
    row.fee,
    "0.60%",
    row.amount,
    row.refund?.amount ?? "0.00",
    "",
  ];
  expect(cells).toHaveLength(27);
  return cells.map((cell) => `\`${cell}`).join(",");
}

function writeBill(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\r\n")}\r\n`);
  return path;
}

const paid = `${order_json.paid_minor / 100}.${String(order_json.paid_minor % 100).padStart(2, "0")}`;
const order = (id: string, paid_at: string) => ({
  ...order_json,
  id,
  paid_at,
  psp: { ...order_json.psp, reference: `4200-${id}` },
});

async function items(tenant: string, import_id: string) {
  return db.query<{
    status: string;
    kind: string;
    order_id: string | null;
    refund_id: string | null;
    payout_id: string | null;
    match_group: string | null;
    reason: string | null;
  }>(
    `SELECT status, kind, order_id, refund_id, payout_id::text, match_group, reason FROM reconciliation_items
      WHERE tenant_id = $1 AND import_id = $2 ORDER BY seq`,
    [tenant, import_id],
  );
}

describe("reconciliation matching", () => {
  it("judges a payment near midnight by the bill that has it, checks the date of an order-id match, and finds a refund missing in the bill", async () => {
    const clock = testClock("2026-11-25T09:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant, 60_000);
    // Beijing 23:59:30 on the 25th: WeChat stamps it 00:00:05 on the 26th and bills it then.
    const late = order("N-LATE", "2026-11-25T15:59:30Z");
    const day = order("N-DAY", "2026-11-25T06:00:00Z");
    const refunded = order("N-REFUNDED", "2026-11-25T08:00:00Z");
    const old = order("N-OLD", "2026-11-20T02:00:00Z");
    await bookOrders(ctx, tenant, [late, day, refunded, old]);
    await refundOrder(ctx, tenant, refunded.id, { refund_id: "rf-1", amount_minor: 10_000 }, "refund");
    const first = writeBill("wechat-25.csv", [
      wechat_header,
      wechatRow({
        time: "2026-11-25 14:00:00",
        transaction_id: "4200-N-DAY",
        order_id: day.id,
        amount: paid,
        fee: "16.45",
      }),
      wechatRow({
        time: "2026-11-25 16:00:00",
        transaction_id: "4200-N-REFUNDED",
        order_id: refunded.id,
        amount: paid,
        fee: "16.45",
      }),
      // Our order id, a provider id we never saw, and a time five days after the order was paid.
      wechatRow({
        time: "2026-11-25 10:00:00",
        transaction_id: "4200-OTHER",
        order_id: old.id,
        amount: paid,
        fee: "16.45",
      }),
    ]);
    const result = await importBill(ctx, tenant, { provider: "wechat", path: first });
    expect(result.counts).toMatchObject({ matched: 2, missing_in_ledger: 1, missing_in_bill: 1 });
    const found = await items(tenant, result.import_id);
    const unmatched = found.find((item) => item.status === "missing_in_ledger");
    expect(unmatched?.order_id).toBe(old.id);
    expect(unmatched?.reason).toContain("beyond the date tolerance of 7200000 ms");
    // The refund the ledger booked and the bill lacks; the late order is left to the next day's bill.
    expect(found.filter((item) => item.status === "missing_in_bill")).toMatchObject([
      { kind: "refund", order_id: refunded.id, refund_id: "rf-1" },
    ]);
    expect(found.some((item) => item.order_id === late.id)).toBe(false);

    const second = writeBill("wechat-26.csv", [
      wechat_header,
      wechatRow({
        time: "2026-11-26 00:00:05",
        transaction_id: "4200-N-LATE",
        order_id: late.id,
        amount: paid,
        fee: "16.45",
      }),
    ]);
    const next = await importBill(ctx, tenant, { provider: "wechat", path: second });
    // Matched by the provider's reference; nothing from the previous day is flagged again.
    expect(next.counts).toMatchObject({ matched: 1, missing_in_bill: 0, missing_in_ledger: 0 });
    // A tolerance too wide is refused before anything is read.
    await expect(
      importBill(ctx, tenant, { provider: "wechat", path: second, date_tolerance_ms: 8 * 86_400_000 }),
    ).rejects.toMatchObject({ code: "date_tolerance_invalid" });
  });

  it("matches one bill row against a whole settlement run, and several rows against one payout", async () => {
    const clock = testClock("2026-11-25T10:00:00Z");
    const ctx: ServiceContext = { db, now: clock.now };
    const tenant = await newTestTenant(ctx);
    await seedExampleMarketplace(ctx, tenant, 60_000);
    await bookOrders(ctx, tenant, [order_json]);
    await completeOrder(ctx, tenant, order_json.id);
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    clock.advance(86_400_000);
    const run = await runSettlement(ctx, tenant, { trigger: "cli" });
    expect(run.paid.length).toBeGreaterThan(2);
    const decimal = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, "0")}`;
    const total = run.paid.reduce((sum, item) => sum + item.amount_minor, 0n);
    const mapping = JSON.stringify({
      columns: {
        reference: "Txn",
        payment_reference: "Ref",
        kind: "Type",
        amount: "Amount",
        occurred_at: "Date",
      },
      kinds: { payout: ["PAYOUT"] },
      currency: "CNY",
    });
    // The bank paid the run's file as one batch: one row names the run.
    const batch = writeBill("batch.csv", [
      "Txn,Ref,Type,Amount,Date",
      `B-1,${run.run_id},PAYOUT,-${decimal(total)},2026-11-26`,
    ]);
    const whole = await importBill(ctx, tenant, { provider: "generic", path: batch, mapping });
    expect(whole.counts).toMatchObject({ matched: 1 + run.paid.length, amount_mismatch: 0 });
    const grouped = await items(tenant, whole.import_id);
    expect(new Set(grouped.map((item) => item.match_group))).toEqual(new Set([`run:${run.run_id}:CNY`]));
    expect(
      grouped
        .filter((item) => item.payout_id !== null)
        .map((item) => item.payout_id)
        .sort(),
    ).toEqual(run.paid.map((item) => item.payout_id).sort());

    // One payout paid in two transfers (plus the bank repeating one), another short by a fen.
    const [split, short] = run.paid;
    const half = split!.amount_minor / 2n;
    const parts = writeBill("parts.csv", [
      "Txn,Ref,Type,Amount,Date",
      `P-1,${split!.reference},PAYOUT,${decimal(half)},2026-11-26`,
      `P-2,${split!.reference},PAYOUT,${decimal(split!.amount_minor - half)},2026-11-26`,
      `P-2,${split!.reference},PAYOUT,${decimal(split!.amount_minor - half)},2026-11-26`,
      `P-3,${short!.reference},PAYOUT,${decimal(short!.amount_minor - 1n)},2026-11-26`,
      "P-4,CSP-UNKNOWN,PAYOUT,1.00,2026-11-26",
    ]);
    const many = await importBill(ctx, tenant, { provider: "generic", path: parts, mapping });
    expect(many.counts).toMatchObject({ matched: 2, duplicate: 1, amount_mismatch: 1, missing_in_ledger: 1 });
    const rows = await items(tenant, many.import_id);
    expect(rows.map((item) => [item.status, item.payout_id])).toEqual([
      ["matched", split!.payout_id],
      ["matched", split!.payout_id],
      ["duplicate", split!.payout_id],
      ["amount_mismatch", short!.payout_id],
      ["missing_in_ledger", null],
    ]);
    expect(rows[3]!.reason).toContain("1 bill rows summing");
  });
});
