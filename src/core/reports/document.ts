import type { ReportLang } from "./format.ts";

// What every report hands to the renderers: titled tables of typed cells.
// Money cells are bigint minor units with their currency; the renderers format
// them exactly (CSV: decimal text, XLSX: typed numbers in major units with the
// currency's format, PDF: locale text). JSON keeps the report's own shape.

export type ColumnType = "text" | "money" | "count" | "date";

export interface Column {
  key: string;
  /** A labels.ts key; unknown keys print as themselves. */
  label: string;
  type: ColumnType;
  /** Text cells are label keys (statement line kinds): rendered in the report's language. */
  translate?: boolean;
}

export type Cell = string | bigint | null;

export interface ReportTable {
  title: string;
  columns: Column[];
  rows: Cell[][];
  /** The currency of every money cell of this table. */
  currency: string;
  /** Column keys whose sum is printed as a totals row. */
  totals?: string[];
}

export interface ReportDocument {
  report: string;
  lang: ReportLang;
  platform_name: string;
  party?: { id: string; name: string } | undefined;
  period?: { from: string; to: string } | undefined;
  tables: ReportTable[];
  /** The JSON answer (the statement, with its manifest when signed). */
  json: unknown;
  /** For a signed statement: what the PDF's footer prints. */
  verification?: { content_sha256: string; checkpoint: string; vkey: string } | undefined;
  generated_at: string;
}

/** Σ of a money or count column, for a totals row. */
export function columnTotal(table: ReportTable, key: string): bigint {
  const index = table.columns.findIndex((column) => column.key === key);
  let total = 0n;
  if (index < 0) return total;
  for (const row of table.rows) {
    const cell = row[index];
    if (typeof cell === "bigint") total += cell;
  }
  return total;
}
