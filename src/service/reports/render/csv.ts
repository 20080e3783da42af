import type { Writable } from "node:stream";
import { formatDecimal } from "../../../core/money.ts";
import {
  type Cell,
  type Column,
  type ReportDocument,
  type StreamedDocument,
  streamedOf,
} from "../../../core/reports/document.ts";

// RFC 4180 CSV in UTF-8, written row by row to the stream as the pages of
// rows arrive (optionally after a
// BOM, so Excel reads the UTF-8 right). Every table of the report goes into
// one file, told apart by the `section` column. A money column is written
// twice: its exact minor units, then the decimal amount in major units. A
// text cell a spreadsheet would turn into a number or a date (a numeric order
// id loses its leading zeros or digits) is written as ="…", which Excel and
// LibreOffice show as text; parseCsv below reads it back.

const looks_numeric = /^[+-]?(\d[\d,.]*([eE][+-]?\d+)?|\d+[-/]\d+([-/]\d+)?)$/;
const needs_quotes = /[",\r\n]/;

function quote(text: string): string {
  return needs_quotes.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function textCell(text: string): string {
  if (looks_numeric.test(text) || text.startsWith("=") || text.startsWith("+") || text.startsWith("@"))
    return `"=""${text.replaceAll('"', '""""')}"""`;
  return quote(text);
}

function headerOf(columns: readonly Column[]): string[] {
  const header = ["section", "currency"];
  for (const column of columns) {
    header.push(column.key);
    if (column.type === "money") header.push(column.key.replace(/_minor$/, ""));
  }
  return header;
}

function rowOf(
  section: string,
  currency: string,
  columns: readonly Column[],
  cells: readonly Cell[],
): string[] {
  const out = [quote(section), currency];
  columns.forEach((column, index) => {
    const cell = cells[index] ?? null;
    if (cell === null) {
      out.push("");
      if (column.type === "money") out.push("");
    } else if (typeof cell === "bigint") {
      out.push(cell.toString());
      if (column.type === "money") out.push(formatDecimal(cell, currency));
    } else out.push(column.type === "date" ? quote(cell) : textCell(cell));
  });
  return out;
}

export async function writeCsv(
  document: ReportDocument,
  out: Writable,
  options: { bom: boolean },
): Promise<void> {
  await writeCsvStreamed(streamedOf(document), out, options);
}

/** Writes each page of each table as it arrives, waiting for the stream to drain between rows. */
export async function writeCsvStreamed(
  document: StreamedDocument,
  out: Writable,
  options: { bom: boolean },
): Promise<void> {
  const write = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.write(text)) resolve();
      else {
        out.once("drain", resolve);
        out.once("error", reject);
      }
    });
  if (options.bom) await write("\uFEFF");
  let header_written = "";
  for await (const table of document.tables) {
    const header = headerOf(table.columns).join(",");
    if (header !== header_written) {
      await write(`${header}\r\n`);
      header_written = header;
    }
    for await (const page of table.pages)
      for (const cells of page)
        await write(`${rowOf(table.title, table.currency, table.columns, cells).join(",")}\r\n`);
  }
}

/** Parses what writeCsv writes (RFC 4180, BOM and ="…" text cells understood). */
export function parseCsv(text: string): string[][] {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (quoted) {
      if (char === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && body[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += char;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.map((cells) =>
    cells.map((cell) => (/^="[\s\S]*"$/.test(cell) ? cell.slice(2, -1).replaceAll('""', '"') : cell)),
  );
}
