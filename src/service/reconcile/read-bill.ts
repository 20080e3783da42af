import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import iconv from "iconv-lite";
import { assert } from "../../core/assert.ts";
import { DomainError } from "../../core/errors.ts";
import { bill_chunk_bytes, record_length_max, rejected_rows_kept_max } from "../../core/limits.ts";
import { AdyenSettlementParser } from "../../core/reconcile/adyen.ts";
import { AlipayParser } from "../../core/reconcile/alipay.ts";
import { splitRecord } from "../../core/reconcile/csv-records.ts";
import { GenericParser, parseMapping } from "../../core/reconcile/generic.ts";
import { type BillReport, BillTotals } from "../../core/reconcile/parse-report.ts";
import { StripeBalanceParser } from "../../core/reconcile/stripe.ts";
import {
  type BillParser,
  type BillProvider,
  type BillRow,
  bill_providers,
} from "../../core/reconcile/types.ts";
import { WechatTradeParser } from "../../core/reconcile/wechat.ts";
import { WechatFundParser } from "../../core/reconcile/wechat-fund.ts";

// Reads a provider bill as a stream: bytes → SHA-256 and characters (UTF-8, or
// GBK when the start is not UTF-8) → lines → CSV records → the provider's
// parser → rows, handed to the caller one at a time. Memory stays bounded by
// the chunk size and the longest record, whatever the file's size.

const sniff_bytes = 64 * 1024;

export interface ReadOptions {
  provider: string;
  /** For `generic`: the column mapping (JSON text). */
  mapping?: string | undefined;
  on_row?: ((row: BillRow) => void | Promise<void>) | undefined;
  on_progress?: ((bytes_read: number, bytes_total: number) => void) | undefined;
}

export function parserFor(provider: string, mapping?: string): BillParser {
  if (!(bill_providers as readonly string[]).includes(provider))
    throw new DomainError(
      "bill_provider_unknown",
      `unknown provider ${JSON.stringify(provider)}; one of ${bill_providers.join(", ")}`,
      "provider",
    );
  switch (provider as BillProvider) {
    case "wechat":
      return new WechatTradeParser();
    case "wechat-fund":
      return new WechatFundParser();
    case "alipay":
      return new AlipayParser();
    case "stripe":
      return new StripeBalanceParser();
    case "adyen":
      return new AdyenSettlementParser();
    case "generic":
      if (mapping === undefined)
        throw new DomainError(
          "bill_unusable",
          "the generic provider needs a column mapping (--mapping FILE)",
          "mapping",
        );
      return new GenericParser(parseMapping(mapping));
  }
}

/** UTF-8 when the first bytes decode as UTF-8 (a BOM says so too); otherwise GBK, as Alipay downloads are. */
export function detectEncoding(head: Uint8Array): "utf-8" | "gbk" {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return "utf-8";
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    return "utf-8";
  } catch {
    return "gbk";
  }
}

async function readHead(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: sniff_bytes - 1 })) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks, length);
}

/** Reads and checks the whole bill; the report is what `--dry-run --json` prints. */
export async function readBill(path: string, options: ReadOptions): Promise<BillReport> {
  const parser = parserFor(options.provider, options.mapping);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new DomainError("bill_unusable", `cannot read ${path}`, "file");
  }
  if (size === 0) throw new DomainError("bill_unusable", "the file is empty", "file");
  const encoding = detectEncoding(await readHead(path));
  const hash = createHash("sha256");
  const decoder =
    encoding === "gbk" ? iconv.getDecoder("gbk") : iconv.getDecoder("utf-8", { stripBOM: true });
  const totals = new BillTotals();
  const rejected: { line: number; reason: string }[] = [];
  let rows_total = 0;
  let rows_parsed = 0;
  let rejected_count = 0;
  let line_number = 0;
  let carry = "";
  let pending: { text: string; line: number } | null = null;
  let bytes_read = 0;

  // Synchronous per line; only a row handed to an async `on_row` is awaited.
  const handleLine = (physical: string): void | Promise<void> => {
    line_number += 1;
    const text = physical.endsWith("\r") ? physical.slice(0, -1) : physical;
    if (pending === null && text.startsWith("#")) {
      parser.comment?.(text, line_number);
      return;
    }
    const record =
      pending === null
        ? { text, line: line_number }
        : { text: `${pending.text}\n${text}`, line: pending.line };
    const cells = splitRecord(record.text);
    if (cells === null) {
      if (record.text.length > record_length_max) {
        pending = null;
        rows_total += 1;
        reject(record.line, `an unterminated quote runs past ${record_length_max} characters`);
        return;
      }
      pending = record;
      return;
    }
    pending = null;
    if (cells.length === 1 && cells[0]!.trim() === "") return;
    const result = parser.feed(cells, record.line);
    if (result.type === "skip") return;
    rows_total += 1;
    if (result.type === "reject") {
      reject(record.line, result.reason);
      return;
    }
    rows_parsed += 1;
    totals.add(result.row);
    return options.on_row?.(result.row);
  };
  const reject = (line: number, reason: string) => {
    rejected_count += 1;
    if (rejected.length < rejected_rows_kept_max) rejected.push({ line, reason });
  };

  for await (const chunk of createReadStream(path, { highWaterMark: bill_chunk_bytes })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    bytes_read += bytes.length;
    carry += decoder.write(bytes);
    let start = 0;
    for (let end = carry.indexOf("\n"); end >= 0; end = carry.indexOf("\n", start)) {
      const handled = handleLine(carry.slice(start, end));
      if (handled !== undefined) await handled;
      start = end + 1;
    }
    carry = carry.slice(start);
    if (carry.length > record_length_max)
      throw new DomainError(
        "bill_unusable",
        `line ${line_number + 1} is longer than ${record_length_max} characters`,
        "file",
      );
    options.on_progress?.(bytes_read, size);
  }
  carry += decoder.end() ?? "";
  if (carry.length > 0) await handleLine(carry);
  if (pending !== null) {
    rows_total += 1;
    reject((pending as { line: number }).line, "the file ends inside a quoted cell");
  }
  if (!parser.recognised())
    throw new DomainError(
      "bill_unusable",
      `no ${options.provider} header found: this is not a ${options.provider} bill (or not one we know)`,
      "file",
    );
  assert(rows_parsed + rejected_count === rows_total, "every detail row is parsed or rejected");
  return {
    provider: options.provider,
    file_sha256: hash.digest("hex"),
    encoding,
    rows_total,
    rows_parsed,
    rows_rejected: rejected,
    totals: totals.json(),
    summary: parser.summary(),
  };
}
