import { Writable } from "node:stream";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_cap from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import example_two from "../../../examples/orders/b2b2c-merchant-negative.json" with { type: "json" };
import type { ReadScope } from "../../core/auth/scope.ts";
import { parseDefinition } from "../../core/reports/custom.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import type { ServiceContext } from "../context.ts";
import { bookOrders } from "../orders/book.ts";
import { runReport, runReportStreamed } from "./catalog.ts";
import { runCustom } from "./custom-run.ts";
import { parseCsv } from "./render/csv.ts";
import { renderReport, renderStreamed } from "./render/index.ts";

let db: Database;
let ctx: ServiceContext;
let tenant: string;
const order_count = 14;
const page_orders = 3;
const november = { from: "2026-11-01", to: "2026-12-01" };

beforeAll(async () => {
  db = await openTestDatabase();
  ctx = { db, now: testClock("2026-11-28T10:00:00Z").now };
  tenant = await newTestTenant(ctx, "sdx");
  await seedExampleMarketplace(ctx, tenant);
  const bases = [example_order, example_two, example_cap];
  // Two merchants' orders, interleaved in time, two of them at the same instant across a page boundary (the keyset's id breaks the tie).
  const orders = Array.from({ length: order_count }, (_, index) => {
    const base = structuredClone(bases[index % bases.length]!) as Record<string, unknown>;
    const minute = index === 3 ? 2 : index;
    return {
      ...base,
      id: `SDX-${String(index).padStart(3, "0")}`,
      merchant_id: index % 2 === 0 ? "m-1001" : "m-2002",
      paid_at: `2026-11-20T10:${String(minute).padStart(2, "0")}:00Z`,
      ...(base.psp === undefined
        ? {}
        : { psp: { ...(base.psp as object), reference: `sdx-psp-${String(index).padStart(3, "0")}` } }),
    };
  });
  const booked = await bookOrders(ctx, tenant, orders);
  expect(booked.map((result) => result.status)).toEqual(orders.map(() => "created"));
}, 120_000);
afterAll(async () => {
  await db?.close();
});

function collector(): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function wholeFile(scope: ReadScope, format: "csv" | "xlsx"): Promise<Buffer> {
  const file = collector();
  await renderReport(await runReport(ctx, scope, "split_detail", november), format, file.out);
  return file.bytes();
}

async function streamedFile(
  scope: ReadScope,
  format: "csv" | "xlsx",
): Promise<{ bytes: Buffer; pages: number }> {
  let pages = 0;
  const document = await runReportStreamed(ctx, scope, "split_detail", november, {
    page_orders,
    on_page: () => {
      pages++;
    },
  });
  const file = collector();
  await renderStreamed(document, format, file.out);
  return { bytes: file.bytes(), pages };
}

async function sheetValues(bytes: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const values: unknown[][] = [];
  for (const sheet of workbook.worksheets) {
    values.push([sheet.name]);
    sheet.eachRow((row) => {
      values.push((row.values as unknown[]).slice(1));
    });
  }
  return values;
}

describe("split detail export in keyset pages", () => {
  const platform = (): ReadScope => ({ tenant_id: tenant, party_id: null });

  it("writes the same CSV and XLSX, rows and totals, page by page as read whole", async () => {
    const csv = await streamedFile(platform(), "csv");
    expect(csv.pages).toBeGreaterThanOrEqual(Math.ceil(order_count / page_orders));
    expect(csv.bytes.toString("utf8")).toBe((await wholeFile(platform(), "csv")).toString("utf8"));
    const rows = parseCsv(csv.bytes.toString("utf8"));
    const order_ids = new Set(rows.slice(1).map((row) => row[rows[0]!.indexOf("order_id")]));
    expect(order_ids.size).toBe(order_count);

    const xlsx = await streamedFile(platform(), "xlsx");
    const streamed = await sheetValues(xlsx.bytes);
    expect(streamed).toEqual(await sheetValues(await wholeFile(platform(), "xlsx")));
    // The totals row, summed as the rows streamed, is what every order's buyer paid.
    const totals = streamed[streamed.length - 1]!;
    const amount_index = 8;
    let paid_minor = 0;
    for (let index = 0; index < order_count; index++)
      paid_minor += [example_order, example_two, example_cap][index % 3]!.paid_minor;
    expect(Math.round((totals[amount_index] as number) * 100)).toBe(paid_minor);
  });

  it("writes the first page's rows before the last page is read", async () => {
    let pages_at_first_row: number | null = null;
    let pages_read = 0;
    const document = await runReportStreamed(ctx, platform(), "split_detail", november, {
      page_orders,
      on_page: () => {
        pages_read++;
      },
    });
    const out = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (pages_at_first_row === null && chunk.toString("utf8").includes("SDX-000"))
          pages_at_first_row = pages_read;
        callback();
      },
    });
    await renderStreamed(document, "csv", out);
    expect(pages_at_first_row).toBe(1);
    expect(pages_read).toBeGreaterThan(3);
  });

  it("gives a merchant only its own rows, paged or whole", async () => {
    const merchant: ReadScope = { tenant_id: tenant, party_id: "m-2002" };
    const csv = await streamedFile(merchant, "csv");
    expect(csv.bytes.toString("utf8")).toBe((await wholeFile(merchant, "csv")).toString("utf8"));
    const [header, ...rows] = parseCsv(csv.bytes.toString("utf8"));
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((row) => row[header!.indexOf("party_id")]))).toEqual(new Set(["m-2002"]));
    const orders = new Set(rows.map((row) => Number(row[header!.indexOf("order_id")]!.slice(4))));
    for (const index of orders) expect(index % 2).toBe(1);
    const xlsx = await streamedFile(merchant, "xlsx");
    expect(await sheetValues(xlsx.bytes)).toEqual(await sheetValues(await wholeFile(merchant, "xlsx")));
  });

  it("folds a custom report over legs page by page to the same groups as in one page", async () => {
    const definition = parseDefinition({
      dataset: "legs",
      dimensions: ["party_id", "role"],
      measures: ["amount_minor", "count", "orders"],
      filters: {},
      period: november,
    });
    for (const scope of [platform(), { tenant_id: tenant, party_id: "m-1001" }]) {
      const paged = await runCustom(ctx, scope, definition, { lang: "en", page_orders: 2 });
      const whole = await runCustom(ctx, scope, definition, { lang: "en", page_orders: 1_000 });
      expect(paged.tables).toEqual(whole.tables);
      expect(paged.json).toEqual(whole.json);
    }
  });
});
