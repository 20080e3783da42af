import type { Writable } from "node:stream";
import ExcelJS from "exceljs";
import { assert } from "../../../core/assert.ts";
import { formatDecimal } from "../../../core/money.ts";
import {
  type Cell,
  ColumnTotals,
  type ReportDocument,
  type StreamedDocument,
  type StreamedTable,
  streamedOf,
} from "../../../core/reports/document.ts";
import { spreadsheetFormat } from "../../../core/reports/format.ts";
import { label } from "../../../core/reports/labels.ts";

// XLSX through exceljs's streaming writer: each row is committed as it is
// added, pages of rows are written as they arrive and totals are summed on
// the way, so memory stays bounded whatever the row count. Money cells are
// typed numbers in major units with the currency's number format; the number
// is parsed from the exact decimal text, and the largest amount allowed has
// at most 15 significant digits, so the value written is that decimal exactly.
// Identifiers are text cells, never numbers.

/** 10^15: below it, a decimal with the currency's exponent survives a double exactly as written. */
const spreadsheet_amount_minor_max = 10n ** 15n;
const sheet_name_max = 31;
/** Excel's rows per sheet, less the totals row a table ends with. */
const sheet_data_rows_max = 1_048_576 - 1;

function majorNumber(amount_minor: bigint, currency: string): number {
  assert(
    amount_minor < spreadsheet_amount_minor_max && amount_minor > -spreadsheet_amount_minor_max,
    `amount ${amount_minor} is too large for an exact spreadsheet number`,
  );
  return Number(formatDecimal(amount_minor, currency));
}

export async function writeXlsx(document: ReportDocument, out: Writable): Promise<void> {
  await writeXlsxStreamed(streamedOf(document), out);
}

/** Writes each table to its sheet page by page, committing every row, with totals summed as rows pass. */
export async function writeXlsxStreamed(document: StreamedDocument, out: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  workbook.creator = document.platform_name;
  const names = new Set<string>();
  let index = 0;
  for await (const table of document.tables) {
    index++;
    const totals = new ColumnTotals(table);
    let sheet = addSheet(workbook, document, table, sheetName(document, table, index, names));
    let sheet_rows = 1;
    let part = 1;
    for await (const page of table.pages)
      for (const cells of page) {
        // A sheet holds at most 1,048,576 rows: the rest of the table continues on the next sheet.
        if (sheet_rows === sheet_data_rows_max) {
          sheet.commit();
          part++;
          sheet = addSheet(workbook, document, table, sheetName(document, table, index, names, part));
          sheet_rows = 1;
        }
        totals.add(cells);
        sheet.addRow(rowValues(table, cells)).commit();
        sheet_rows++;
      }
    if (table.totals !== undefined && table.totals.length > 0) {
      const values = table.columns.map((column, column_index) => {
        if (column_index === 0) return label(document.lang, "total");
        const total = totals.of(column_index);
        if (total === undefined) return null;
        return column.type === "money" ? majorNumber(total, table.currency) : Number(total);
      });
      const row = sheet.addRow(values);
      row.font = { bold: true };
      row.commit();
    }
    sheet.commit();
  }
  await workbook.commit();
}

function sheetName(
  document: StreamedDocument,
  table: StreamedTable,
  index: number,
  names: Set<string>,
  part = 1,
): string {
  let name = label(document.lang, table.title)
    .replace(/[\\/?*[\]:]/g, " ")
    .slice(0, sheet_name_max - 4);
  if (part > 1) name = `${name.slice(0, sheet_name_max - 12)} (${part})`;
  if (names.has(name)) name = `${name} ${index}`;
  assert(!names.has(name), `sheet name ${name} is used twice`);
  names.add(name);
  return name;
}

function addSheet(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  document: StreamedDocument,
  table: StreamedTable,
  name: string,
): ExcelJS.Worksheet {
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
  return sheet;
}

function rowValues(table: StreamedTable, cells: readonly Cell[]): (string | number | null)[] {
  return table.columns.map((column, column_index) => {
    const cell = cells[column_index] ?? null;
    if (cell === null) return null;
    if (typeof cell === "bigint")
      return column.type === "money" ? majorNumber(cell, table.currency) : Number(cell);
    return cell;
  });
}
