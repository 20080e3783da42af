import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import example_cap from "../../../examples/orders/b2b2c-cap-audit.json" with { type: "json" };
import example_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import example_two from "../../../examples/orders/b2b2c-merchant-negative.json" with { type: "json" };
import { createApiKey } from "../../service/auth/api-keys.ts";
import type { ServiceContext } from "../../service/context.ts";
import { bookOrders } from "../../service/orders/book.ts";
import { parseCsv } from "../../service/reports/render/csv.ts";
import { LogKeyStore } from "../../service/tlog/signing-keys.ts";
import { sequenceAll } from "../../service/tlog/testing.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { startTestServer, type TestServer } from "../../testing/http.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { verifyBundle } from "../../verify/index.ts";
import { verifyStatement, verifyStatementText } from "../../verify/statement.ts";

let db: Database;
let server: TestServer;
let keys: Record<"admin" | "merchant" | "other_merchant" | "supplier" | "integration", string>;
const log_keys = new LogKeyStore({ host: "reports.test" });

beforeAll(async () => {
  db = await openTestDatabase();
  const clock = testClock("2026-11-26T10:00:00Z");
  const ctx: ServiceContext = { db, now: clock.now, log_keys };
  const tenant = await newTestTenant(ctx, "rep");
  await seedExampleMarketplace(ctx, tenant);
  const booked = await bookOrders(ctx, tenant, [example_order, example_cap, example_two]);
  expect(booked.map((result) => result.status)).toEqual(["created", "created", "created"]);
  await sequenceAll(ctx, tenant, log_keys);
  const key = async (
    role: "platform_admin" | "merchant" | "supplier" | "integration",
    party_id: string | null,
  ) => (await createApiKey(ctx, tenant, { name: role, role, party_id })).key;
  keys = {
    admin: await key("platform_admin", null),
    merchant: await key("merchant", "m-1001"),
    other_merchant: await key("merchant", "m-2002"),
    supplier: await key("supplier", "s-9"),
    integration: await key("integration", null),
  };
  server = await startTestServer(ctx, keys.admin);
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

const november = "from=2026-11-01&to=2026-12-01";

async function fetchBytes(
  path: string,
  key: string,
): Promise<{ status: number; bytes: Buffer; type: string }> {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return {
    status: response.status,
    bytes: Buffer.from(await response.arrayBuffer()),
    type: response.headers.get("content-type") ?? "",
  };
}

describe("GET /v1/reports/statement", () => {
  it("answers the JSON the issue names, signed, and verify accepts it untouched and rejects one changed digit", async () => {
    const { status, body } = await server.call("GET", `/v1/reports/statement?party_id=m-1001&${november}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ party_id: "m-1001", currency: "CNY", from: "2026-11-01", to: "2026-12-01" });
    expect(typeof body.opening_minor).toBe("number");
    expect(body.closing_minor).toBeGreaterThan(0);
    // The split's credit, gross to net: the buyer's payment less what every other party takes.
    expect(body.lines.map((line: { kind: string }) => line.kind)).toEqual([
      "sales",
      "commission",
      "supplier_cost",
      "referral_fees",
      "psp_fees",
      "tax",
      "shipping",
    ]);
    // The merchant-negative order credits the merchant nothing (its costs took the whole share), so it has no lines.
    expect(body.lines[0].amount_minor).toBe(example_order.paid_minor + example_cap.paid_minor);
    let moved = 0;
    for (const line of body.lines) moved += line.amount_minor;
    expect(body.opening_minor + moved).toBe(body.closing_minor);
    expect(body.checkpoint).toMatchObject({ origin: expect.stringMatching(/^reports\.test\//), size: 4 });
    const balances = await server.call("GET", `/v1/parties/m-1001/balances?as_of=${body.closing_as_of}`);
    expect(balances.body.balances[0].held_minor).toBe(body.closing_minor);

    const text = JSON.stringify(body, null, 2);
    const verified = await verifyStatementText(text);
    expect(verified).toMatchObject({ party_id: "m-1001", key_pinned: false });
    const vkey = body.manifest.vkey as string;
    await expect(verifyStatementText(text, [vkey])).resolves.toMatchObject({ key_pinned: true });
    // One digit of the closing balance (and its line, so the arithmetic still adds up) changed.
    const closing = String(body.closing_minor);
    const changed = `${closing.slice(0, -1)}${(Number(closing.at(-1)) + 1) % 10}`;
    const forged = structuredClone(body);
    forged.closing_minor = Number(changed);
    forged.lines[0].amount_minor += Number(changed) - Number(closing);
    await expect(verifyStatement(forged)).rejects.toMatchObject({ code: "statement_altered" });
    // A changed digit alone breaks the arithmetic first.
    const digit = text.replace(`"closing_minor": ${closing}`, `"closing_minor": ${changed}`);
    expect(digit).not.toBe(text);
    await expect(verifyStatementText(digit)).rejects.toMatchObject({ code: "statement_unbalanced" });
    // A key that did not sign it.
    const stranger = new LogKeyStore({ host: "elsewhere.test" });
    const other = await stranger.signer(db, "someone-else");
    await expect(verifyStatementText(text, [other.vkey])).rejects.toMatchObject({
      code: "no_known_signature",
    });

    // The CLI: exit 0 on the untouched file, non-zero on the changed one.
    const dir = mkdtempSync(join(tmpdir(), "statement-"));
    writeFileSync(join(dir, "good.json"), text);
    writeFileSync(join(dir, "bad.json"), digit);
    const cli = (file: string) => {
      try {
        return {
          code: 0,
          out: execFileSync(
            "npx",
            ["tsx", "src/cli/main.ts", "verify", "statement", join(dir, file), "--vkey", vkey],
            { encoding: "utf8" },
          ),
        };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { code: failed.status, out: failed.stderr };
      }
    };
    const good = cli("good.json");
    expect(good.code, good.out).toBe(0);
    expect(good.out).toContain("m-1001");
    const bad = cli("bad.json");
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("closing");
  }, 180_000);

  it("gives the proof bundles of the transactions behind a statement line, summing to the line", async () => {
    const statement = await server.call("GET", `/v1/reports/statement?${november}`, { key: keys.merchant });
    const sales = statement.body.lines.find((line: { kind: string }) => line.kind === "sales");
    const vkey = (
      await fetchBytes(`/log/${statement.body.checkpoint.origin.split("/")[1]}/vkey`, keys.admin)
    ).bytes
      .toString("utf8")
      .trim();
    let cursor: string | null = null;
    let sum = 0;
    let pages = 0;
    do {
      const query: string = `${november}&limit=1${cursor === null ? "" : `&cursor=${cursor}`}`;
      const page = await server.call("GET", `/v1/reports/statement/lines/sales/proofs?${query}`, {
        key: keys.merchant,
      });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body).toMatchObject({ party_id: "m-1001", currency: "CNY", kind: "sales" });
      for (const item of page.body.items) {
        sum += item.amount_minor;
        expect(item.journal_kind).toBe("split");
        const verified = await verifyBundle(item.bundle, [vkey]);
        expect(verified.leafIndex).toBeGreaterThanOrEqual(0n);
      }
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(sum).toBe(sales.amount_minor);
    // Every other line's proofs sum to it too: a split is listed under each kind it has a piece of.
    for (const line of statement.body.lines as { kind: string; amount_minor: number }[]) {
      const page = await server.call(
        "GET",
        `/v1/reports/statement/lines/${line.kind}/proofs?${november}&limit=50`,
        { key: keys.merchant },
      );
      expect(page.status).toBe(200);
      let line_sum = 0;
      for (const item of page.body.items) line_sum += item.amount_minor;
      expect(line_sum, line.kind).toBe(line.amount_minor);
    }
    // Another merchant cannot list them; an unknown line has nothing behind it.
    const other = await server.call(
      "GET",
      `/v1/reports/statement/lines/sales/proofs?party_id=m-1001&${november}`,
      {
        key: keys.other_merchant,
      },
    );
    expect(other.status).toBe(404);
    const none = await server.call("GET", `/v1/reports/statement/lines/payouts/proofs?${november}`, {
      key: keys.merchant,
    });
    expect(none.body.items).toEqual([]);
  });

  it("scopes by role: a merchant gets its own, another party's is 404, platform-wide reports are 404", async () => {
    const own = await server.call("GET", `/v1/reports/statement?${november}`, { key: keys.merchant });
    expect(own.status).toBe(200);
    expect(own.body.party_id).toBe("m-1001");
    const other = await server.call("GET", `/v1/reports/statement?party_id=m-2002&${november}`, {
      key: keys.merchant,
    });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe("party_not_found");
    const revenue = await server.call("GET", `/v1/reports/platform_revenue?${november}`, {
      key: keys.merchant,
    });
    expect(revenue.status).toBe(404);
    const integration = await server.call("GET", `/v1/reports/statement?party_id=m-1001&${november}`, {
      key: keys.integration,
    });
    expect(integration.status).toBe(403);
  });

  it("shows a supplier only its own legs in the split detail", async () => {
    const { status, body } = await server.call("GET", `/v1/reports/split_detail?${november}`, {
      key: keys.supplier,
    });
    expect(status).toBe(200);
    expect(body.items.length).toBeGreaterThan(0);
    expect(new Set(body.items.map((item: { party_id: string }) => item.party_id))).toEqual(new Set(["s-9"]));
    const all = await server.call("GET", `/v1/reports/split_detail?${november}`);
    expect(new Set(all.body.items.map((item: { party_id: string }) => item.party_id)).size).toBeGreaterThan(
      3,
    );
    const one = await server.call("GET", `/v1/reports/split_detail?order_id=${example_order.id}`);
    let sum = 0;
    for (const item of one.body.items) sum += item.amount_minor;
    expect(sum).toBe(example_order.paid_minor);
  });

  it("refuses bad input with a clear problem", async () => {
    const cases: [string, number, string][] = [
      [`/v1/reports/nonsense?${november}`, 404, "report_unknown"],
      [`/v1/reports/statement?party_id=m-1001&${november}&format=docx`, 400, "report_format_invalid"],
      ["/v1/reports/statement?party_id=m-1001&from=2026-11-10&to=2026-11-01", 400, "report_period_invalid"],
      ["/v1/reports/statement?party_id=m-1001&from=2026-11-01&to=2026-11-01", 400, "report_period_invalid"],
      ["/v1/reports/statement?party_id=m-1001&from=2000-01-01&to=2026-11-01", 422, "report_period_too_long"],
      ["/v1/reports/split_detail?from=2026-01-01&to=2026-11-01", 422, "report_period_too_long"],
      [`/v1/reports/statement?party_id=m-1001&${november}&currency=USD`, 422, "report_currency_unused"],
      [`/v1/reports/statement?party_id=m-1001&${november}&currency=XXQ`, 400, "currency_invalid"],
      [`/v1/reports/statement?party_id=m-1001&${november}&lang=fr`, 400, "report_lang_invalid"],
      [
        "/v1/reports/statement?party_id=m-1001&from=2026-11-01T10:00:00Z&to=2026-12-01",
        400,
        "report_period_invalid",
      ],
      ["/v1/reports/statement?party_id=m-1001&from=yesterday&to=2026-12-01", 400, "report_period_invalid"],
      [`/v1/reports/statement?${november}`, 400, "report_party_required"],
      [`/v1/reports/statement?party_id=nobody&${november}`, 404, "party_not_found"],
    ];
    for (const [path, status, code] of cases) {
      const response = await server.call("GET", path);
      expect(response.status, path).toBe(status);
      expect(response.headers.get("content-type"), path).toContain("application/problem+json");
      expect(response.body.code, path).toBe(code);
      expect(response.body.detail.length, path).toBeGreaterThan(10);
    }
  });
});

describe("report formats", () => {
  it("writes a CSV that round-trips, with IDs as text and an optional BOM", async () => {
    const json = await server.call("GET", `/v1/reports/split_detail?${november}`);
    const csv = await fetchBytes(`/v1/reports/split_detail?${november}&format=csv&bom=1`, keys.admin);
    expect(csv.status).toBe(200);
    expect(csv.type).toContain("text/csv");
    expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(csv.bytes.toString("utf8"));
    const [header, ...body] = rows;
    expect(body.length).toBe(json.body.items.length);
    const at = (name: string) => header!.indexOf(name);
    body.forEach((row, index) => {
      const item = json.body.items[index];
      expect(row[at("order_id")]).toBe(item.order_id);
      expect(row[at("party_id")]).toBe(item.party_id);
      expect(row[at("amount_minor")]).toBe(String(item.amount_minor));
      expect(row[at("note")]).toBe(item.note);
    });
  });

  it("writes an XLSX whose typed sums match the JSON", async () => {
    const json = await server.call("GET", `/v1/reports/statement?party_id=m-1001&${november}`);
    const xlsx = await fetchBytes(
      `/v1/reports/statement?party_id=m-1001&${november}&format=xlsx&lang=zh-CN`,
      keys.admin,
    );
    expect(xlsx.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.getRow(1).getCell(1).value).toBe("类型");
    const amounts: number[] = [];
    sheet.eachRow((row, number) => {
      if (number > 1) amounts.push(row.getCell(2).value as number);
    });
    expect(typeof amounts[0]).toBe("number");
    expect(Math.round(amounts.at(-1)! * 100)).toBe(json.body.closing_minor);
    expect(Math.round(amounts[0]! * 100)).toBe(json.body.opening_minor);
    expect(sheet.getRow(2).getCell(2).numFmt).toContain("#,##0.00");
    const revenue = await server.call("GET", `/v1/reports/platform_revenue?${november}`);
    const revenue_xlsx = await fetchBytes(`/v1/reports/platform_revenue?${november}&format=xlsx`, keys.admin);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(revenue_xlsx.bytes as unknown as ArrayBuffer);
    const rows = book.worksheets[0]!.getSheetValues().slice(2) as unknown[][];
    let json_sum = 0;
    for (const item of revenue.body.items) json_sum += item.amount_minor;
    const total_row = rows.at(-1)!;
    expect(Math.round((total_row[6] as number) * 100)).toBe(json_sum);
    expect(book.worksheets[0]!.getCell("B2").type).toBe(ExcelJS.ValueType.String);
  });

  it("renders Chinese in the PDF: the text layer has it, and page 1 is saved as a PNG", async () => {
    const dir = join(process.cwd(), "test-results");
    mkdirSync(dir, { recursive: true });
    for (const lang of ["zh-CN", "zh-TW", "en"] as const) {
      const pdf = await fetchBytes(
        `/v1/reports/statement?party_id=m-1001&${november}&format=pdf&lang=${lang}`,
        keys.admin,
      );
      expect(pdf.status).toBe(200);
      expect(pdf.bytes.subarray(0, 5).toString()).toBe("%PDF-");
      const file = join(dir, `statement-${lang}.pdf`);
      writeFileSync(file, pdf.bytes);
      const text = execFileSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
      const expected = {
        "zh-CN": ["对账单", "期初余额", "期末余额", "销售额", "佣金", "冻结中", "¥"],
        "zh-TW": ["對帳單", "期初餘額", "期末餘額", "銷售額", "佣金", "凍結中"],
        en: ["Party statement", "Opening balance", "Closing balance", "CNY "],
      }[lang];
      for (const word of expected) expect(text, `${lang}: ${word}`).toContain(word);
      expect(text).toContain("Mall platform".length > 0 ? "m-1001" : "");
      expect(text.replace(/\s+/g, "")).toContain("SHA-256");
      execFileSync("pdftoppm", [
        "-png",
        "-r",
        "60",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        file,
        join(dir, `statement-${lang}`),
      ]);
    }
  }, 60_000);
});
