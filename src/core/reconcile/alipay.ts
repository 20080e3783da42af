import { type Exact, parseExact, zero } from "./decimal.ts";
import { ColumnSums, checkSummary, no_summary } from "./summary.ts";
import type { BillParser, FeedResult, SummaryCheck } from "./types.ts";

// Alipay 业务明细 (the trade detail CSV inside the downloaded bill zip). As
// downloaded it is GBK; re-saved copies are UTF-8. Lines starting with `#` are
// a preamble (account, period) and a footer (交易合计 / 退款合计 with counts and
// amounts). ID cells carry a trailing tab. A refund row (业务类型 退款) has
// negative amounts; 服务费 is negative when charged and positive when given back.

type Field = "trade_no" | "order_id" | "type" | "time" | "received" | "fee" | "refund_batch";
const names: Record<Field, readonly string[]> = {
  trade_no: ["支付宝交易号"],
  order_id: ["商户订单号"],
  type: ["业务类型"],
  time: ["完成时间", "创建时间"],
  received: ["商家实收（元）", "商家实收(元)", "商家实收"],
  fee: ["服务费（元）", "服务费(元)", "服务费"],
  refund_batch: ["退款批次号/请求号"],
};

export class AlipayParser implements BillParser {
  readonly provider = "alipay" as const;
  private index: Record<Field, number> | null = null;
  private width = 0;
  private readonly sums = new ColumnSums();
  private refunds = 0;
  private footer: {
    payments?: { count: number; amount: Exact };
    refunds?: { count: number; amount: Exact };
  } = {};

  recognised(): boolean {
    return this.index !== null;
  }

  comment(text: string): void {
    // #交易合计：3笔，商家实收：￥300.00元，… and #退款合计：1笔，商家实收：￥-50.00元，…
    const match =
      /^#\s*(交易|退款)合计[：:]\s*(\d+)\s*笔[，,]\s*商家实收[：:]\s*[￥¥]?\s*(-?[\d,]+(?:\.\d+)?)\s*元/.exec(
        text,
      );
    if (match === null) return;
    const amount = parseExact(match[3]!);
    if (amount === null) return;
    const total = { count: Number(match[2]), amount };
    if (match[1] === "交易") this.footer.payments = total;
    else this.footer.refunds = total;
  }

  feed(raw: string[], line: number): FeedResult {
    const cells = raw.map((cell) => cell.trim());
    if (this.index === null) {
      if (cells[0] !== "支付宝交易号") return { type: "skip" };
      const index = {} as Record<Field, number>;
      for (const [field, options] of Object.entries(names) as [Field, readonly string[]][]) {
        const at = cells.findIndex((cell) => options.includes(cell));
        if (at < 0) return { type: "skip" };
        index[field] = at;
      }
      this.index = index;
      this.width = cells.length;
      return { type: "skip" };
    }
    if (cells.every((cell) => cell === "")) return { type: "skip" };
    const index = this.index;
    // A trailing comma after the last column is common; fewer columns is not.
    if (cells.length < this.width || cells.slice(this.width).some((cell) => cell !== ""))
      return { type: "reject", reason: `expected ${this.width} columns, found ${cells.length}` };
    const received = parseExact(cells[index.received]! || "0");
    if (received === null)
      return {
        type: "reject",
        reason: `商家实收 is not a decimal amount: ${JSON.stringify(cells[index.received])}`,
      };
    const fee_text = cells[index.fee]!;
    const fee = fee_text === "" ? zero : parseExact(fee_text);
    if (fee === null)
      return { type: "reject", reason: `服务费 is not a decimal amount: ${JSON.stringify(fee_text)}` };
    const type = cells[index.type]!;
    const is_refund = type === "退款" || received.units < 0n;
    if (type !== "交易" && type !== "退款")
      return { type: "reject", reason: `unknown 业务类型 ${JSON.stringify(type)}` };
    this.sums.count += 1;
    if (is_refund) {
      this.refunds += 1;
      this.sums.add("refund", received);
    } else this.sums.add("payment", received);
    return {
      type: "row",
      row: {
        line,
        kind: is_refund ? "refund" : "payment",
        provider_reference: cells[index.trade_no]! || null,
        payment_reference: cells[index.trade_no]! || null,
        order_id: cells[index.order_id]! || null,
        refund_id: is_refund ? cells[index.refund_batch]! || null : null,
        currency: "CNY",
        amount: { units: received.units < 0n ? -received.units : received.units, scale: received.scale },
        // Alipay writes the fee charged as negative: ours is positive when charged.
        fee: { units: -fee.units, scale: fee.scale },
        occurred_at: cells[index.time]! || null,
      },
    };
  }

  summary(): SummaryCheck {
    const { payments, refunds } = this.footer;
    if (payments === undefined && refunds === undefined) return no_summary;
    const checks: { field: string; bill: Exact | number; rows: Exact | number }[] = [];
    if (payments !== undefined) {
      checks.push({ field: "交易合计.笔数", bill: payments.count, rows: this.sums.count - this.refunds });
      checks.push({ field: "交易合计.商家实收", bill: payments.amount, rows: this.sums.get("payment") });
    }
    if (refunds !== undefined) {
      checks.push({ field: "退款合计.笔数", bill: refunds.count, rows: this.refunds });
      checks.push({ field: "退款合计.商家实收", bill: refunds.amount, rows: this.sums.get("refund") });
    }
    return checkSummary(checks);
  }
}
