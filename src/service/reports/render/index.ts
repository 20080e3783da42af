import type { Writable } from "node:stream";
import { DomainError } from "../../../core/errors.ts";
import type { ReportDocument, StreamedDocument } from "../../../core/reports/document.ts";
import { writeCsv, writeCsvStreamed } from "./csv.ts";
import { findCjkFont } from "./font.ts";

// pdfkit and exceljs are loaded on the first PDF or XLSX, not at start: together
// they are about 40 MB of a server's resident memory and seconds of its start
// (measured with `node -e` requiring both: +40 MB RSS), and most servers never render one.
const pdfRenderer = () => import("./pdf.ts");
const xlsxRenderer = () => import("./xlsx.ts");

export const report_formats = ["json", "csv", "xlsx", "pdf"] as const;
export type ReportFormat = (typeof report_formats)[number];

export const content_types: Readonly<Record<ReportFormat, string>> = {
  json: "application/json; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pdf: "application/pdf",
};

export function formatOf(value: string | undefined): ReportFormat {
  if (value === undefined) return "json";
  if (!(report_formats as readonly string[]).includes(value))
    throw new DomainError(
      "report_format_invalid",
      `format must be one of ${report_formats.join(", ")}, got ${JSON.stringify(value)}`,
      "format",
    );
  return value as ReportFormat;
}

/** Checks what a format needs before a byte is sent, so a missing font is a clear error and not a cut stream. */
export function assertRenderable(document: Pick<ReportDocument, "lang">, format: ReportFormat): void {
  if (format === "pdf") findCjkFont(document.lang);
}

export function fileNameOf(
  document: Pick<ReportDocument, "report" | "party" | "period">,
  format: ReportFormat,
): string {
  const parts = [document.report, document.party?.id, document.period?.from, document.period?.to].filter(
    (part): part is string => part !== undefined,
  );
  return `${parts.join("_").replace(/[^A-Za-z0-9._-]/g, "-")}.${format}`;
}

export async function renderReport(
  document: ReportDocument,
  format: Exclude<ReportFormat, "json">,
  out: Writable,
  options: { bom?: boolean } = {},
): Promise<void> {
  if (format === "csv") {
    await writeCsv(document, out, { bom: options.bom ?? false });
    out.end();
  } else if (format === "xlsx") await (await xlsxRenderer()).writeXlsx(document, out);
  else await (await pdfRenderer()).writePdf(document, out);
}

/** CSV and XLSX of a report whose rows arrive in pages: each page is written as it arrives. */
export async function renderStreamed(
  document: StreamedDocument,
  format: "csv" | "xlsx",
  out: Writable,
  options: { bom?: boolean } = {},
): Promise<void> {
  if (format === "csv") {
    await writeCsvStreamed(document, out, { bom: options.bom ?? false });
    out.end();
  } else await (await xlsxRenderer()).writeXlsxStreamed(document, out);
}
