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

/**
 * A table whose rows arrive in pages (a keyset read, one page at a time), for
 * the CSV and XLSX writers: they write each page as it arrives and total the
 * money columns as the rows pass, so no table is ever held whole.
 */
export interface StreamedTable extends Omit<ReportTable, "rows"> {
  pages: AsyncIterable<readonly Cell[][]>;
}

/** A report whose tables arrive one after another, each in pages. */
export interface StreamedDocument extends Omit<ReportDocument, "tables" | "json"> {
  tables: AsyncIterable<StreamedTable>;
}

/** A whole document as a streamed one: each table is one page. */
export function streamedOf(document: ReportDocument): StreamedDocument {
  const { tables, json: _json, ...rest } = document;
  async function* pages(rows: Cell[][]): AsyncGenerator<readonly Cell[][]> {
    yield rows;
  }
  async function* streamed(): AsyncGenerator<StreamedTable> {
    for (const { rows, ...table } of tables) yield { ...table, pages: pages(rows) };
  }
  return { ...rest, tables: streamed() };
}

/** Running sums of a table's totals columns, added to as rows stream past. */
export class ColumnTotals {
  private readonly indexes: number[];
  readonly sums: bigint[];

  constructor(table: Pick<ReportTable, "columns" | "totals">) {
    this.indexes = table.columns.flatMap((column, index) =>
      table.totals?.includes(column.key) === true ? [index] : [],
    );
    this.sums = this.indexes.map(() => 0n);
  }

  add(row: readonly Cell[]): void {
    this.indexes.forEach((column_index, index) => {
      const cell = row[column_index];
      if (typeof cell === "bigint") this.sums[index] = (this.sums[index] ?? 0n) + cell;
    });
  }

  /** The total of a column, or undefined when it has none. */
  of(column_index: number): bigint | undefined {
    const index = this.indexes.indexOf(column_index);
    return index < 0 ? undefined : this.sums[index];
  }
}
