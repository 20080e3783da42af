// The audit domain as plain data: rule facts in, hits out. Nothing here does
// I/O; the service layer prefetches each stage's facts and writes the hits.

/**
 * Where a rule runs. `booking`: inside the booking transaction, from the order
 * and its allocation alone. `history`: asynchronously, from the commit-ordered
 * event stream, with facts read from past orders. `external`: raised by
 * another capability (settlement's reconciliation) or by a person.
 */
export type RuleStage = "booking" | "history" | "external";

/** A rule's parameters: plain JSON numbers, each with a default and bounds. */
export type RuleParams = Readonly<Record<string, number>>;

export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly meaning: string;
}

/** What one rule found: its reason in words and the inputs it used, as JSON. */
export interface RuleFinding {
  readonly reason: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface Hit extends RuleFinding {
  readonly rule_id: string;
  /** Order-level rules name the order; party-level rules name only the party. */
  readonly order_id: string | null;
  readonly party_id: string | null;
  /** What the case is worth, in minor units of `currency`. */
  readonly amount_minor: bigint;
  readonly currency: string;
  /** Unique per rule, subject and source: a redelivered event adds nothing. */
  readonly dedupe_key: string;
}

/** The facts of a freshly booked order, as the booking transaction has them. */
export interface BookingFacts {
  readonly order_id: string;
  readonly merchant_id: string;
  readonly buyer_ref: string | null;
  readonly referrers: readonly string[];
  readonly currency: string;
  readonly paid_minor: bigint;
  readonly paid_at_ms: number;
  /** When the event reached ClearSplit. */
  readonly arrived_at_ms: number;
  readonly platform_coupon_minor: bigint;
  readonly flags: readonly string[];
  /** Σ legs not paid to the merchant role, and the policy's cap on it. */
  readonly non_merchant_minor: bigint;
  readonly cap_bp: number;
  /** The commission legs, and the lowest and highest rate the policy declares. */
  readonly commission_legs: readonly { amount_minor: bigint; basis_minor: bigint; line_id?: string }[];
  readonly commission_bp_bounds: readonly [min_bp: number, max_bp: number] | null;
}

/** An order seen again by the history rules, with what its merchant and buyer did before it. */
export interface OrderHistoryFacts {
  readonly order_id: string;
  readonly merchant_id: string;
  readonly currency: string;
  readonly paid_minor: bigint;
  /** The merchant's earlier orders (newest first, at most the rule's window). */
  readonly merchant_recent_paid_minor: readonly bigint[];
  /** Orders in the velocity window, this one included. */
  readonly merchant_orders_in_window: number;
  readonly buyer_ref: string | null;
  readonly buyer_orders_in_window: number;
}

/** A refund or chargeback seen by the history rules. */
export interface RefundHistoryFacts {
  readonly order_id: string;
  readonly refund_id: string;
  readonly merchant_id: string;
  readonly currency: string;
  readonly paid_minor: bigint;
  readonly refund_minor: bigint;
  readonly paid_at_ms: number;
  readonly refunded_at_ms: number;
  /** The merchant's orders and refunds (with chargebacks) in the rate window. */
  readonly merchant_orders_in_window: number;
  readonly merchant_refunds_in_window: number;
  /** The merchant's debt balance, in the order's currency. */
  readonly merchant_debt_minor: bigint;
}

export interface HistoryFacts {
  readonly order?: OrderHistoryFacts;
  readonly refund?: RefundHistoryFacts;
}

/** A buyer's receipt reported for an order: its stated time and when the report arrived. */
export interface CompletionFacts {
  readonly order_id: string;
  readonly merchant_id: string;
  readonly currency: string;
  readonly paid_minor: bigint;
  readonly completed_at_ms: number;
  readonly arrived_at_ms: number;
}
