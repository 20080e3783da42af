import type { Writable } from "node:stream";
import PDFDocument from "pdfkit";
import type { Cell, ReportDocument, ReportTable } from "../../../core/reports/document.ts";
import { formatAmount } from "../../../core/reports/format.ts";
import { label } from "../../../core/reports/labels.ts";
import { findCjkFont } from "./font.ts";

// A printable report: the platform's name, the report, party and period, each
// table with its totals, in the requested language with an embedded CJK font,
// and on every page a footer with what verifies it (for a statement: its
// content hash, the log checkpoint, the signing key) and the page number.

const page_margin = 40;
const footer_height = 52;
const row_height = 16;
const font_size = 8.5;

function cellText(document: ReportDocument, table: ReportTable, column_index: number, cell: Cell): string {
  const column = table.columns[column_index]!;
  if (cell === null) return "";
  if (typeof cell === "bigint")
    return column.type === "money" ? formatAmount(cell, table.currency, document.lang) : cell.toString();
  if (column.translate === true) return label(document.lang, cell);
  if (column.type === "date") return cell.slice(0, 10);
  return cell;
}

export async function writePdf(document: ReportDocument, out: Writable): Promise<void> {
  const font = findCjkFont(document.lang);
  const pdf = new PDFDocument({
    size: "A4",
    margins: { top: page_margin, left: page_margin, right: page_margin, bottom: page_margin + footer_height },
    bufferPages: true,
    info: {
      Title: `${document.platform_name} ${label(document.lang, document.report)}`,
      Producer: "ClearSplit",
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    out.once("finish", resolve);
    out.once("error", reject);
    pdf.once("error", reject);
  });
  pdf.pipe(out);
  pdf.registerFont("cjk", font.path, font.family);
  pdf.font("cjk");
  header(pdf, document);
  for (const table of document.tables) drawTable(pdf, document, table);
  footers(pdf, document);
  pdf.end();
  await done;
}

function header(pdf: PDFKit.PDFDocument, document: ReportDocument): void {
  const t = (key: string) => label(document.lang, key);
  pdf.fontSize(16).text(document.platform_name);
  pdf.fontSize(13).text(t(document.report));
  pdf.moveDown(0.3).fontSize(9);
  if (document.party !== undefined) pdf.text(`${t("party")}: ${document.party.name} (${document.party.id})`);
  if (document.period !== undefined)
    pdf.text(`${t("period")}: ${document.period.from} — ${document.period.to}`);
  pdf.text(`${t("generated")}: ${document.generated_at}`);
  pdf.moveDown(0.8);
}

function widthsOf(pdf: PDFKit.PDFDocument, table: ReportTable): number[] {
  const usable = pdf.page.width - 2 * page_margin;
  const weights = table.columns.map((column) =>
    column.type === "money" ? 1.4 : column.key === "note" ? 2.4 : 1,
  );
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => (usable * weight) / total);
}

function drawRow(
  pdf: PDFKit.PDFDocument,
  texts: string[],
  widths: number[],
  table: ReportTable,
  bold: boolean,
): void {
  if (pdf.y + row_height > pdf.page.height - pdf.page.margins.bottom) pdf.addPage();
  const y = pdf.y;
  let x = page_margin;
  texts.forEach((text, index) => {
    const right = table.columns[index]?.type === "money" || table.columns[index]?.type === "count";
    pdf.fontSize(font_size).text(text, x + 2, y + 3, {
      width: widths[index]! - 4,
      align: right ? "right" : "left",
      lineBreak: false,
      ellipsis: true,
    });
    x += widths[index]!;
  });
  if (bold) pdf.moveTo(page_margin, y).lineTo(x, y).lineWidth(0.6).stroke();
  pdf.x = page_margin;
  pdf.y = y + row_height;
}

function drawTable(pdf: PDFKit.PDFDocument, document: ReportDocument, table: ReportTable): void {
  const widths = widthsOf(pdf, table);
  if (pdf.y + 3 * row_height > pdf.page.height - pdf.page.margins.bottom) pdf.addPage();
  const heading = label(document.lang, table.title);
  pdf
    .fontSize(11)
    .text(table.currency === "" ? heading : `${heading} · ${table.currency}`, page_margin, pdf.y);
  pdf.moveDown(0.2);
  drawRow(
    pdf,
    table.columns.map((column) => label(document.lang, column.label)),
    widths,
    table,
    true,
  );
  for (const cells of table.rows)
    drawRow(
      pdf,
      cells.map((cell, index) => cellText(document, table, index, cell)),
      widths,
      table,
      false,
    );
  if (table.totals !== undefined && table.totals.length > 0) {
    const texts = table.columns.map((column, index) => {
      if (index === 0) return label(document.lang, "total");
      if (!table.totals?.includes(column.key)) return "";
      let sum = 0n;
      for (const row of table.rows) if (typeof row[index] === "bigint") sum += row[index] as bigint;
      return column.type === "money" ? formatAmount(sum, table.currency, document.lang) : sum.toString();
    });
    drawRow(pdf, texts, widths, table, true);
  }
  pdf.moveDown(1);
}

function footers(pdf: PDFKit.PDFDocument, document: ReportDocument): void {
  const range = pdf.bufferedPageRange();
  const t = (key: string) => label(document.lang, key);
  for (let index = range.start; index < range.start + range.count; index++) {
    pdf.switchToPage(index);
    const bottom = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0;
    const y = pdf.page.height - page_margin - footer_height + 8;
    const width = pdf.page.width - 2 * page_margin;
    pdf
      .moveTo(page_margin, y - 4)
      .lineTo(page_margin + width, y - 4)
      .lineWidth(0.4)
      .stroke();
    pdf.fontSize(6.5);
    const lines =
      document.verification === undefined
        ? [`${document.platform_name} · ${t(document.report)}`]
        : [
            `${t("verification")} — ${t("content_sha256")}: ${document.verification.content_sha256}`,
            `${t("checkpoint")}: ${document.verification.checkpoint}`,
            `vkey: ${document.verification.vkey}`,
            t("verify_hint"),
          ];
    lines.forEach((line, line_index) => {
      pdf.text(line, page_margin, y + line_index * 9, {
        width: width - 50,
        lineBreak: false,
        ellipsis: true,
      });
    });
    pdf.text(`${t("page")} ${index - range.start + 1} / ${range.count}`, page_margin + width - 50, y, {
      width: 50,
      align: "right",
      lineBreak: false,
    });
    pdf.page.margins.bottom = bottom;
  }
}
