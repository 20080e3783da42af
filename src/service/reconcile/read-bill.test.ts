import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBill } from "./read-bill.ts";

// Every provider's reader on bills written for these tests (test/bills), in
// the formats' real shapes: backticks, GBK, `#` footers, sub-minor fees,
// summaries that disagree, broken rows, and files of the wrong provider.

const bills = join(import.meta.dirname, "../../../test/bills");
const bill = (name: string) => join(bills, name);

describe("bill readers", () => {
  it("reads a WeChat v3 trade bill: backticks stripped, refund and sub-minor fee exact, summary agrees", async () => {
    const report = await readBill(bill("wechat-v3.csv"), { provider: "wechat" });
    expect(report).toMatchObject({
      provider: "wechat",
      encoding: "utf-8",
      rows_total: 3,
      rows_parsed: 3,
      rows_rejected: [],
      totals: { CNY: { gross: "2842.00", refunds: "1000.00", fees: "11.052", net: "1830.948" } },
      summary: { present: true, agrees: true, differences: [] },
    });
    expect(report.file_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads the older 24-column v2 bill the same way", async () => {
    const report = await readBill(bill("wechat-v2.csv"), { provider: "wechat" });
    expect(report.totals).toEqual({
      CNY: { gross: "2842.00", refunds: "1000.00", fees: "11.052", net: "1830.948" },
    });
    expect(report.summary.agrees).toBe(true);
  });

  it("reports a broken row by line and a summary that disagrees with its rows", async () => {
    const report = await readBill(bill("wechat-v3-broken.csv"), { provider: "wechat" });
    expect(report.rows_total).toBe(4);
    expect(report.rows_parsed).toBe(3);
    expect(report.rows_rejected).toEqual([
      { line: 5, reason: '应结订单金额 is not a decimal amount: "12.3.4"' },
    ]);
    expect(report.summary).toEqual({
      present: true,
      agrees: false,
      differences: [
        { field: "总交易单数", bill: "4", rows: "3" },
        { field: "应结订单总金额", bill: "2850.00", rows: "2842.00" },
      ],
    });
  });

  it("reads WeChat fund-flow bills with full-width and half-width (元) headers alike", async () => {
    const full = await readBill(bill("wechat-fund.csv"), { provider: "wechat-fund" });
    const half = await readBill(bill("wechat-fund-halfwidth.csv"), { provider: "wechat-fund" });
    expect(full.totals).toEqual({
      CNY: { gross: "2742.00", refunds: "1000.00", fees: "16.45", net: "1725.55" },
    });
    expect(half.totals).toEqual(full.totals);
    expect(full.summary.agrees && half.summary.agrees).toBe(true);
  });

  it("detects GBK in an Alipay bill, strips trailing tabs, reads negative refunds and checks the footer", async () => {
    const gbk = await readBill(bill("alipay-gbk.csv"), { provider: "alipay" });
    const utf8 = await readBill(bill("alipay-utf8.csv"), { provider: "alipay" });
    expect(gbk.encoding).toBe("gbk");
    expect(utf8.encoding).toBe("utf-8");
    for (const report of [gbk, utf8]) {
      expect(report.totals).toEqual({
        CNY: { gross: "500.00", refunds: "50.00", fees: "2.70", net: "447.30" },
      });
      expect(report.summary).toEqual({ present: true, agrees: true, differences: [] });
    }
  });

  it("maps Stripe balance history by header name across export versions", async () => {
    const classic = await readBill(bill("stripe-balance.csv"), { provider: "stripe" });
    expect(classic.totals).toEqual({ USD: { gross: "27.42", refunds: "10.00", fees: "1.10", net: "16.32" } });
    expect(classic.summary.present).toBe(false);
    const itemized = await readBill(bill("stripe-itemized.csv"), { provider: "stripe" });
    expect(itemized.totals).toEqual({
      EUR: { gross: "100.00", refunds: "20.00", fees: "1.65", net: "78.35" },
    });
  });

  it("reads an Adyen settlement details report: settled, refunded, chargeback, fee and payout rows", async () => {
    const report = await readBill(bill("adyen-settlement.csv"), { provider: "adyen" });
    expect(report.rows_parsed).toBe(5);
    expect(report.totals).toEqual({ EUR: { gross: "100.00", refunds: "80.00", fees: "3.80", net: "16.20" } });
  });

  it("reads a generic bill through its column mapping", async () => {
    const mapping = readFileSync(bill("generic-mapping.json"), "utf8");
    const report = await readBill(bill("generic.csv"), { provider: "generic", mapping });
    expect(report.totals).toEqual({ CNY: { gross: "10.00", refunds: "4.00", fees: "0.06", net: "5.94" } });
  });

  it("refuses an unknown provider, an empty file and another provider's format", async () => {
    await expect(readBill(bill("wechat-v3.csv"), { provider: "paypal" })).rejects.toMatchObject({
      code: "bill_provider_unknown",
    });
    const dir = mkdtempSync(join(tmpdir(), "bills-"));
    try {
      writeFileSync(join(dir, "empty.csv"), "");
      await expect(readBill(join(dir, "empty.csv"), { provider: "wechat" })).rejects.toMatchObject({
        code: "bill_unusable",
      });
      await expect(readBill(bill("wechat-v3.csv"), { provider: "stripe" })).rejects.toMatchObject({
        code: "bill_unusable",
      });
      await expect(readBill(bill("stripe-balance.csv"), { provider: "alipay" })).rejects.toMatchObject({
        code: "bill_unusable",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("streams a 50 MB bill within bounded memory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bills-"));
    const path = join(dir, "big.csv");
    try {
      const out = createWriteStream(path);
      out.write(`${readFileSync(bill("wechat-v3.csv"), "utf8").split("\r\n")[0]}\r\n`);
      const row = readFileSync(bill("wechat-v3.csv"), "utf8").split("\r\n")[2]!;
      const rows = Math.ceil((50 * 1024 * 1024) / (row.length + 2));
      for (let i = 0; i < rows; i++)
        if (!out.write(`${row}\r\n`))
          await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      await new Promise<void>((resolve) => out.end(() => resolve()));
      // A heap of 48 MB cannot hold the file (100 MB as a string): only a streaming reader finishes.
      const child = spawnSync(
        process.execPath,
        [
          "--max-old-space-size=48",
          "--import",
          "tsx",
          join(import.meta.dirname, "../../testing/read-bill-child.ts"),
          path,
          "wechat",
        ],
        { encoding: "utf8", maxBuffer: 1 << 20 },
      );
      expect(child.status, child.stderr).toBe(0);
      const report = JSON.parse(child.stdout);
      expect(report.rows_parsed).toBe(rows);
      expect(report.totals.CNY.gross).toBe(`${rows * 100}.00`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
