import { type Exact, parseExact } from "./decimal.ts";
import { ColumnSums, checkSummary, no_summary } from "./summary.ts";
import type { BillParser, BillRowKind, FeedResult, SummaryCheck } from "./types.ts";
import { unTick } from "./wechat.ts";

// WeChat Pay fund-flow bills (资金账单). Columns: 记账时间, 微信支付业务单号,
// 资金流水单号, 业务名称, 业务类型, 收支类型, 收支金额(元), 账户结余(元), …
// The amount headers are written with a half-width "(元)" in some downloads
// and a full-width "（元）" in others. Cells carry WeChat's backtick. The summary
// header is 资金流水总笔数, 收入笔数, 收入金额, 支出笔数, 支出金额.

type Field = "time" | "business_no" | "flow_no" | "business_type" | "direction" | "amount" | "voucher";
const names: Record<Field, readonly string[]> = {
  time: ["记账时间"],
  business_no: ["微信支付业务单号"],
  flow_no: ["资金流水单号"],
  business_type: ["业务类型"],
  direction: ["收支类型"],
  amount: ["收支金额"],
  voucher: ["业务凭证号"],
};
const optional: ReadonlySet<Field> = new Set(["voucher"]);

/** "收支金额(元)" and "收支金额（元）" are the same column. */
export function headerName(cell: string): string {
  return cell.replace(/[（(]\s*元\s*[）)]$/, "").trim();
}

function kindOf(business_type: string, income: boolean): BillRowKind {
  if (business_type.includes("退款")) return "refund";
  if (business_type.includes("手续费")) return "fee";
  if (business_type.includes("提现") || business_type.includes("结算")) return "payout";
  if (business_type.includes("分账") || business_type.includes("企业付款") || business_type.includes("转账"))
    return "transfer";
  if (business_type.includes("交易") && income) return "payment";
  return "adjustment";
}

export class WechatFundParser implements BillParser {
  readonly provider = "wechat-fund" as const;
  private index: Partial<Record<Field, number>> | null = null;
  private width = 0;
  private summary_header: string[] | null = null;
  private summary_row: string[] | null = null;
  private readonly sums = new ColumnSums();
  private income_count = 0;

  recognised(): boolean {
    return this.index !== null;
  }

  feed(raw: string[], line: number): FeedResult {
    const cells = raw.map(unTick);
    if (this.index === null) {
      if (cells[0] !== "记账时间") return { type: "skip" };
      const heads = cells.map(headerName);
      const index: Partial<Record<Field, number>> = {};
      for (const [field, options] of Object.entries(names) as [Field, readonly string[]][]) {
        const at = heads.findIndex((cell) => options.includes(cell));
        if (at < 0 && !optional.has(field)) return { type: "skip" };
        if (at >= 0) index[field] = at;
      }
      this.index = index;
      this.width = cells.length;
      return { type: "skip" };
    }
    if (this.summary_header !== null) {
      if (this.summary_row === null && cells.some((cell) => cell !== "")) this.summary_row = cells;
      return { type: "skip" };
    }
    if (cells[0] === "资金流水总笔数") {
      this.summary_header = cells.map(headerName);
      return { type: "skip" };
    }
    if (cells.every((cell) => cell === "")) return { type: "skip" };
    if (cells.length !== this.width)
      return { type: "reject", reason: `expected ${this.width} columns, found ${cells.length}` };
    const index = this.index as Record<Field, number>;
    const amount = parseExact(cells[index.amount]!);
    if (amount === null || amount.units < 0n)
      return {
        type: "reject",
        reason: `收支金额 is not a positive decimal amount: ${JSON.stringify(cells[index.amount])}`,
      };
    const direction = cells[index.direction]!;
    if (direction !== "收入" && direction !== "支出")
      return { type: "reject", reason: `unknown 收支类型 ${JSON.stringify(direction)}` };
    const income = direction === "收入";
    this.sums.count += 1;
    if (income) this.income_count += 1;
    this.sums.add(income ? "income" : "expense", amount);
    const kind = kindOf(cells[index.business_type]!, income);
    const zero_fee: Exact = { units: 0n, scale: 0 };
    return {
      type: "row",
      row: {
        line,
        kind,
        provider_reference: cells[index.flow_no]! || null,
        payment_reference: cells[index.business_no]! || null,
        order_id: null,
        refund_id: null,
        currency: "CNY",
        amount,
        fee: zero_fee,
        occurred_at: cells[index.time]! || null,
      },
    };
  }

  summary(): SummaryCheck {
    if (this.summary_header === null || this.summary_row === null) return no_summary;
    const value = (name: string) => {
      const at = this.summary_header!.indexOf(name);
      return at < 0 ? null : (this.summary_row![at] ?? null);
    };
    const checks: { field: string; bill: Exact | number; rows: Exact | number }[] = [];
    const counts: [string, number][] = [
      ["资金流水总笔数", this.sums.count],
      ["收入笔数", this.income_count],
      ["支出笔数", this.sums.count - this.income_count],
    ];
    for (const [name, rows] of counts) {
      const text = value(name);
      if (text !== null) checks.push({ field: name, bill: Number(text), rows });
    }
    for (const [name, field] of [
      ["收入金额", "income"],
      ["支出金额", "expense"],
    ] as const) {
      const text = value(name);
      if (text === null) continue;
      checks.push({
        field: name,
        bill: parseExact(text) ?? { units: -1n, scale: 0 },
        rows: this.sums.get(field),
      });
    }
    return checkSummary(checks);
  }
}
