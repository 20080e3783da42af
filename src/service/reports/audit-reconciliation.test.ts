import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import order_json from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { Actor } from "../audit/actor.ts";
import { listCases } from "../audit/cases.ts";
import { decideCase } from "../audit/decide-case.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { importBill } from "../reconcile/import.ts";
import { runReport } from "./catalog.ts";
import { parseCsv } from "./render/csv.ts";
import { renderToBuffer } from "./saved.ts";

// The audit report (cases, hits per rule, decisions, time to decision) and the
// reconciliation report (the results of bill imports) as standard reports:
// exact, platform-only, in every format and language.

let db: Database;
let ctx: ServiceContext;
let tenant: string;
let counts: Record<string, number>;
const bills = join(import.meta.dirname, "../../../test/bills");
const alice: Actor = { actor: "user:alice", person: "user:alice", role: "reviewer" };
const bob: Actor = { actor: "user:bob", person: "user:bob", role: "reviewer" };
const november = { from: "2026-11-01", to: "2026-12-01" };
const opened_to_decided_ms = 95 * 60_000;

beforeAll(async () => {
  db = await openTestDatabase();
  const clock = testClock("2026-11-26T02:00:00Z");
  ctx = { db, now: clock.now };
  tenant = await newTestTenant(ctx, "arr");
  await seedExampleMarketplace(ctx, tenant, 60_000);
  await bookOrders(ctx, tenant, [
    order_json,
    {
      ...order_json,
      id: "WST-NOT-BILLED",
      paid_at: "2026-11-25T12:00:00Z",
      psp: { ...order_json.psp, reference: "4200000000000000000000000009" },
    },
  ]);
  // The import's exceptions open audit cases; one is decided 95 minutes later, by two reviewers if four eyes ask.
  counts = (await importBill(ctx, tenant, { provider: "wechat", path: join(bills, "wechat-v3.csv") })).counts;
  const { items } = await listCases(db, tenant, {});
  expect(items.length).toBeGreaterThan(0);
  clock.advance(opened_to_decided_ms);
  const first = await decideCase(
    ctx,
    tenant,
    items[0]!.id,
    { decision: "approve", reason: "checked" },
    alice,
  );
  if (first.case.state === "awaiting_second_approval")
    await decideCase(ctx, tenant, items[0]!.id, { decision: "approve", reason: "agreed" }, bob);
});
afterAll(async () => {
  await db?.close();
});

const platform = () => ({ tenant_id: tenant, party_id: null });

describe("audit report", () => {
  it("lists the period's cases, hits per rule, and decisions with their time to decision", async () => {
    const document = await runReport(ctx, platform(), "audit", november);
    const json = document.json as {
      cases: { state: string; minutes_to_decision: bigint | null }[];
      rules: { rule_id: string; hits: number; cases: number }[];
      decisions: {
        state: string;
        cases: bigint;
        decided: bigint;
        median_minutes_to_decision: bigint | null;
      }[];
    };
    expect(json.cases.length).toBeGreaterThan(0);
    expect(json.cases.filter((item) => item.state === "approved")).toEqual([
      expect.objectContaining({ minutes_to_decision: 95n }),
    ]);
    expect(json.rules.reduce((sum, rule) => sum + rule.hits, 0)).toBeGreaterThanOrEqual(json.cases.length);
    const approved = json.decisions.find((row) => row.state === "approved")!;
    expect(approved).toMatchObject({ cases: 1n, decided: 1n, median_minutes_to_decision: 95n });
    const total = json.decisions.reduce((sum, row) => sum + row.cases, 0n);
    expect(total).toBe(BigInt(json.cases.length));
    // An empty period is an empty report, not an error.
    const empty = await runReport(ctx, platform(), "audit", { from: "2026-01-01", to: "2026-02-01" });
    expect((empty.json as { cases: unknown[] }).cases).toEqual([]);
  });

  it("is invisible to a merchant", async () => {
    await expect(
      runReport(ctx, { tenant_id: tenant, party_id: "m-1001" }, "audit", november),
    ).rejects.toMatchObject({ code: "report_not_found" });
    await expect(
      runReport(ctx, { tenant_id: tenant, party_id: "m-1001" }, "reconciliation", november),
    ).rejects.toMatchObject({ code: "report_not_found" });
  });
});

describe("reconciliation report", () => {
  it("gives each import's counts per status and every exception, equal to the import's own result", async () => {
    const document = await runReport(ctx, platform(), "reconciliation", november);
    const json = document.json as {
      imports: { provider: string; counts: Record<string, bigint> }[];
      exceptions: { status: string }[];
    };
    expect(json.imports).toHaveLength(1);
    expect(json.imports[0]!.provider).toBe("wechat");
    expect(
      Object.fromEntries(Object.entries(json.imports[0]!.counts).map(([k, v]) => [k, Number(v)])),
    ).toEqual(counts);
    const exceptions = Object.entries(counts)
      .filter(([status]) => status !== "matched")
      .reduce((sum, [, count]) => sum + count, 0);
    expect(json.exceptions).toHaveLength(exceptions);
    expect(json.exceptions.every((item) => item.status !== "matched")).toBe(true);
  });

  it("renders both reports as CSV that round-trips, XLSX that opens with the same counts, and Chinese PDF", async () => {
    const dir = join(process.cwd(), "test-results", "reports");
    mkdirSync(dir, { recursive: true });
    for (const name of ["audit", "reconciliation"] as const) {
      const document = await runReport(ctx, platform(), name, { ...november, lang: "zh-CN" });
      const csv = parseCsv((await renderToBuffer(document, "csv")).toString("utf8"));
      const body_rows = document.tables.reduce((sum, table) => sum + table.rows.length, 0);
      // One header per distinct column set, then every row of every table.
      expect(csv.filter((row) => row[0] !== "section").length).toBe(body_rows);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load((await renderToBuffer(document, "xlsx")) as never);
      expect(workbook.worksheets.length).toBe(document.tables.length);
      if (name === "reconciliation") {
        const sheet = workbook.worksheets[0]!;
        // The imports sheet: header, one import, totals; the matched count is a typed number.
        expect(sheet.getRow(2).getCell(5).value).toBe(counts.matched);
      }
      const file = join(mkdtempSync(join(tmpdir(), "arr-")), `${name}.pdf`);
      writeFileSync(file, await renderToBuffer(document, "pdf"));
      const text = execFileSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
      const words =
        name === "audit" ? ["审核报表", "各规则命中", "已批准"] : ["对账报表", "账单导入", "wechat"];
      for (const word of words) expect(text, `${name}: ${word}`).toContain(word);
      execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", file, join(dir, `${name}-zh-CN`)]);
    }
  });
});
