import type { Exact } from "./decimal.ts";

// What every provider's bill is read into. One detail row is one movement:
// a payment, a refund, a chargeback, a fee, a payout, a transfer or an
// adjustment. Amounts are positive magnitudes except `fee`, which is signed:
// positive is a fee charged, negative a fee given back.

export const bill_providers = ["wechat", "wechat-fund", "alipay", "stripe", "adyen", "generic"] as const;
export type BillProvider = (typeof bill_providers)[number];

export type BillRowKind = "payment" | "refund" | "chargeback" | "fee" | "payout" | "transfer" | "adjustment";

export interface BillRow {
  line: number;
  kind: BillRowKind;
  /** The provider's id of the movement (transaction, refund, balance transaction). */
  provider_reference: string | null;
  /** The provider's id of the payment a refund or chargeback belongs to, when it differs. */
  payment_reference: string | null;
  /** Our order id, as the merchant passed it to the provider. */
  order_id: string | null;
  refund_id: string | null;
  currency: string;
  amount: Exact;
  fee: Exact;
  occurred_at: string | null;
}

export type FeedResult =
  | { type: "skip" }
  | { type: "row"; row: BillRow }
  | { type: "reject"; reason: string };

export interface SummaryCheck {
  present: boolean;
  agrees: boolean;
  differences: { field: string; bill: string; rows: string }[];
}

/** A provider's reader: fed every record of the file in order, one at a time. */
export interface BillParser {
  readonly provider: BillProvider;
  /** Whether `#` lines and blank lines are preamble/footer to be passed as comments. */
  feed(cells: string[], line: number): FeedResult;
  /** Lines starting with `#` (Alipay's preamble and footer), passed whole. */
  comment?(text: string, line: number): void;
  /** Whether a detail header was recognised: without one the file is unusable. */
  recognised(): boolean;
  summary(): SummaryCheck;
}
