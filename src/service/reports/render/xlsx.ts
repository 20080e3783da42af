import type { Writable } from "node:stream";
import ExcelJS from "exceljs";
import { assert } from "../../../core/assert.ts";
import { formatDecimal } from "../../../core/money.ts";
import { columnTotal, type ReportDocument } from "../../../core/reports/document.ts";
import { spreadsheetFormat } from "../../../core/reports/format.ts";
import { label } from "../../../core/reports/labels.ts";

// XLSX through exceljs's streaming writer: each row is committed as it is
// added, so memory stays bounded whatever the row count. Money cells are
// typed numbers in major units with the currency's number format; the number
// is parsed from the exact decimal text, and the largest amount allowed has
// at most 15 significant digits, so the value written is that decimal exactly.
// Identifiers are text cells, never numbers.

/** 10^15: below it, a decimal with the currency's exponent survives a double exactly as written. */
const spreadsheet_amount_minor_max = 10n ** 15n;
const sheet_name_max = 31;

function majorNumber(amount_minor: bigint, currency: string): number {
  assert(
    amount_minor < spreadsheet_amount_minor_max && amount_minor > -spreadsheet_amount_minor_max,
    `amount ${amount_minor} is too large for an exact spreadsheet number`,
  );
  return Number(formatDecimal(amount_minor, currency));
}

export async function writeXlsx(document: ReportDocument, out: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  workbook.creator = document.platform_name;
  const used = new Set<string>();
  for (const [index, table] of document.tables.entries()) {
    let name = label(document.lang, table.title)
      .replace(/[\\/?*[\]:]/g, " ")
      .slice(0, sheet_name_max - 4);
    if (used.has(name)) name = `${name} ${index + 1}`;
    used.add(name);
    const sheet = workbook.addWorksheet(name);
    const money_format =
      table.currency === "" ? "0" : `${spreadsheetFormat(table.currency)} "${table.currency}"`;
    sheet.columns = table.columns.map((column) => ({
      header: label(document.lang, column.label),
      key: column.key,
      width: column.type === "text" ? 24 : 18,
      style: column.type === "money" ? { numFmt: money_format } : {},
    }));
    sheet.getRow(1).font = { bold: true };
    sheet.getRow(1).commit();
    for (const cells of table.rows) {
      const values = table.columns.map((column, column_index) => {
        const cell = cells[column_index] ?? null;
        if (cell === null) return null;
        if (typeof cell === "bigint")
          return column.type === "money" ? majorNumber(cell, table.currency) : Number(cell);
        return cell;
      });
      sheet.addRow(values).commit();
    }
    if (table.totals !== undefined && table.totals.length > 0) {
      const totals = table.columns.map((column, column_index) => {
        if (column_index === 0) return label(document.lang, "total");
        if (!table.totals?.includes(column.key)) return null;
        const total = columnTotal(table, column.key);
        return column.type === "money" ? majorNumber(total, table.currency) : Number(total);
      });
      const row = sheet.addRow(totals);
      row.font = { bold: true };
      row.commit();
    }
    sheet.commit();
  }
  await workbook.commit();
}
