import { isCurrency } from "../currency.ts";
import { type Exact, negate, parseExact, zero } from "./decimal.ts";
import { ColumnSums, checkSummary, no_summary } from "./summary.ts";
import type { BillParser, BillRow, FeedResult, SummaryCheck } from "./types.ts";

// WeChat Pay trade bills (交易账单, bill type ALL). Two generations:
//  - v3 (APIv3 download): 27 columns; 应结订单金额 and 代金券金额 lead the amounts,
//    订单金额, 申请退款金额 and 费率备注 trail;
//  - v2 (older API): 24 columns; 总金额 and 代金券或立减优惠金额.
// Every cell of the detail and summary rows starts with a backtick (so that a
// spreadsheet keeps long ids as text). After the detail rows comes a summary
// header (总交易单数, …) and one summary row. A refund row carries 退款金额 and
// a negative 手续费 (the fee given back). Fees may have five decimal places.

const v3_columns = 27;
const v2_columns = 24;

type Field =
  | "time"
  | "transaction_id"
  | "order_id"
  | "status"
  | "currency"
  | "settle"
  | "refund_id"
  | "out_refund_id"
  | "refund"
  | "fee";

const names: Record<Field, readonly string[]> = {
  time: ["交易时间"],
  transaction_id: ["微信订单号"],
  order_id: ["商户订单号"],
  status: ["交易状态"],
  currency: ["货币种类"],
  settle: ["应结订单金额", "总金额"],
  refund_id: ["微信退款单号"],
  out_refund_id: ["商户退款单号"],
  refund: ["退款金额"],
  fee: ["手续费"],
};

/** Strips the backtick WeChat puts before every value. */
export function unTick(cell: string): string {
  const trimmed = cell.trim();
  return trimmed.startsWith("`") ? trimmed.slice(1).trim() : trimmed;
}

export class WechatTradeParser implements BillParser {
  readonly provider = "wechat" as const;
  private index: Record<Field, number> | null = null;
  private version: "v2" | "v3" | null = null;
  private summary_header: string[] | null = null;
  private summary_row: string[] | null = null;
  private readonly sums = new ColumnSums();

  recognised(): boolean {
    return this.index !== null;
  }

  feed(raw: string[], line: number): FeedResult {
    const cells = raw.map(unTick);
    if (this.index === null) return this.header(cells);
    if (this.summary_header !== null) {
      if (this.summary_row === null && cells.some((cell) => cell !== "")) this.summary_row = cells;
      return { type: "skip" };
    }
    if (cells[0] === "总交易单数") {
      this.summary_header = cells;
      return { type: "skip" };
    }
    if (cells.every((cell) => cell === "")) return { type: "skip" };
    return this.detail(cells, line);
  }

  private header(cells: string[]): FeedResult {
    if (cells[0] !== "交易时间") return { type: "skip" };
    const index = {} as Record<Field, number>;
    for (const [field, options] of Object.entries(names) as [Field, readonly string[]][]) {
      const at = cells.findIndex((cell) => options.includes(cell));
      if (at < 0) return { type: "skip" };
      index[field] = at;
    }
    this.index = index;
    this.version = cells.length >= v3_columns ? "v3" : "v2";
    this.width = cells.length;
    return { type: "skip" };
  }

  private width = 0;

  private detail(cells: string[], line: number): FeedResult {
    const index = this.index!;
    if (cells.length !== this.width)
      return {
        type: "reject",
        reason: `expected ${this.width} columns (${this.version}), found ${cells.length}`,
      };
    const amount = (field: Field): Exact | string => {
      const text = cells[index[field]]!;
      if (text === "") return zero;
      return parseExact(text) ?? `${names[field][0]} is not a decimal amount: ${JSON.stringify(text)}`;
    };
    const settle = amount("settle");
    const refund = amount("refund");
    const fee = amount("fee");
    for (const value of [settle, refund, fee])
      if (typeof value === "string") return { type: "reject", reason: value };
    const currency = cells[index.currency]!;
    if (!isCurrency(currency))
      return { type: "reject", reason: `unknown currency ${JSON.stringify(currency)}` };
    const status = cells[index.status]!;
    const is_refund = status === "REFUND";
    if (!is_refund && !["SUCCESS", "REVOKED", "PAYERROR", "CLOSED"].includes(status) && status !== "")
      return { type: "reject", reason: `unknown 交易状态 ${JSON.stringify(status)}` };
    this.sums.count += 1;
    this.sums.add("settle", settle as Exact);
    this.sums.add("refund", refund as Exact);
    this.sums.add("fee", fee as Exact);
    const row: BillRow = {
      line,
      kind: is_refund ? "refund" : "payment",
      provider_reference: is_refund ? cells[index.refund_id]! || null : cells[index.transaction_id]! || null,
      payment_reference: cells[index.transaction_id]! || null,
      order_id: cells[index.order_id]! || null,
      refund_id: is_refund ? cells[index.out_refund_id]! || null : null,
      currency,
      amount: is_refund ? (refund as Exact) : (settle as Exact),
      fee: fee as Exact,
      occurred_at: cells[index.time]! || null,
    };
    return { type: "row", row };
  }

  summary(): SummaryCheck {
    if (this.summary_header === null || this.summary_row === null) return no_summary;
    const value = (...options: string[]) => {
      const at = this.summary_header!.findIndex((cell) => options.includes(cell));
      return at < 0 ? null : (this.summary_row![at] ?? null);
    };
    const checks: { field: string; bill: Exact | number; rows: Exact | number }[] = [];
    const count = value("总交易单数");
    if (count !== null) checks.push({ field: "总交易单数", bill: Number(count), rows: this.sums.count });
    const pairs: [string[], string][] = [
      [["应结订单总金额", "总交易额"], "settle"],
      [["退款总金额", "总退款金额"], "refund"],
      [["手续费总金额"], "fee"],
    ];
    for (const [options, field] of pairs) {
      const text = value(...options);
      if (text === null) continue;
      const bill = parseExact(text);
      checks.push({ field: options[0]!, bill: bill ?? negate(zero), rows: this.sums.get(field) });
      if (bill === null) checks[checks.length - 1]!.bill = { units: -1n, scale: 0 };
    }
    return checkSummary(checks);
  }
}

export const wechat_column_counts = { v2: v2_columns, v3: v3_columns };
