import { isCurrency } from "../currency.ts";
import { type Exact, parseExact, zero } from "./decimal.ts";
import { no_summary } from "./summary.ts";
import type { BillParser, BillRowKind, FeedResult, SummaryCheck } from "./types.ts";

// Stripe balance history exports. Column sets differ between export versions
// and dashboard settings ("Type" or "reporting_category", "Source" or
// "source_id", "Created (UTC)" or "created"), so columns are found by header
// name, case-insensitively. Amounts are in major units with a sign; the
// currency is lowercase. There is no summary row.

type Field = "id" | "type" | "source" | "amount" | "fee" | "currency" | "created" | "order_id";
const names: Record<Field, readonly string[]> = {
  id: ["id", "balance_transaction_id"],
  type: ["type", "reporting_category"],
  source: ["source", "source_id"],
  amount: ["amount", "gross"],
  fee: ["fee"],
  currency: ["currency"],
  created: ["created (utc)", "created_utc", "created"],
  order_id: ["order_id (metadata)", "order_id", "metadata.order_id", "description"],
};
const required: readonly Field[] = ["id", "type", "amount", "currency"];

const kind_of: Record<string, BillRowKind> = {
  charge: "payment",
  payment: "payment",
  refund: "refund",
  payment_refund: "refund",
  refund_failure: "adjustment",
  payment_failure_refund: "adjustment",
  adjustment: "adjustment",
  dispute: "chargeback",
  dispute_reversal: "adjustment",
  transfer: "transfer",
  transfer_refund: "transfer",
  payout: "payout",
  payout_cancel: "payout",
  payout_failure: "payout",
  stripe_fee: "fee",
  network_cost: "fee",
  fee: "fee",
  application_fee: "fee",
};

export class StripeBalanceParser implements BillParser {
  readonly provider = "stripe" as const;
  private index: Partial<Record<Field, number>> | null = null;
  private width = 0;

  recognised(): boolean {
    return this.index !== null;
  }

  feed(raw: string[], line: number): FeedResult {
    const cells = raw.map((cell) => cell.trim());
    if (this.index === null) {
      const lower = cells.map((cell) => cell.toLowerCase());
      const index: Partial<Record<Field, number>> = {};
      for (const [field, options] of Object.entries(names) as [Field, readonly string[]][]) {
        const at = lower.findIndex((cell) => options.includes(cell));
        if (at >= 0) index[field] = at;
      }
      if (required.some((field) => index[field] === undefined)) return { type: "skip" };
      this.index = index;
      this.width = cells.length;
      return { type: "skip" };
    }
    if (cells.every((cell) => cell === "")) return { type: "skip" };
    if (cells.length !== this.width)
      return { type: "reject", reason: `expected ${this.width} columns, found ${cells.length}` };
    const cell = (field: Field) => (this.index![field] === undefined ? "" : cells[this.index![field]!]!);
    const type = cell("type").toLowerCase();
    const kind = kind_of[type];
    if (kind === undefined)
      return { type: "reject", reason: `unknown balance transaction type ${JSON.stringify(type)}` };
    const amount = parseExact(cell("amount"));
    if (amount === null)
      return { type: "reject", reason: `amount is not a decimal: ${JSON.stringify(cell("amount"))}` };
    const fee_text = cell("fee");
    const fee: Exact | null = fee_text === "" ? zero : parseExact(fee_text);
    if (fee === null) return { type: "reject", reason: `fee is not a decimal: ${JSON.stringify(fee_text)}` };
    const currency = cell("currency").toUpperCase();
    if (!isCurrency(currency))
      return { type: "reject", reason: `unknown currency ${JSON.stringify(cell("currency"))}` };
    const magnitude = { units: amount.units < 0n ? -amount.units : amount.units, scale: amount.scale };
    return {
      type: "row",
      row: {
        line,
        kind,
        provider_reference: cell("id") || null,
        payment_reference: cell("source") || null,
        order_id: cell("order_id") || null,
        refund_id: kind === "refund" ? cell("source") || null : null,
        currency,
        // Refunds, disputes, payouts and fees are negative in the export: kept as magnitudes.
        amount: kind === "adjustment" ? amount : magnitude,
        fee,
        occurred_at: cell("created") || null,
      },
    };
  }

  summary(): SummaryCheck {
    return no_summary;
  }
}
