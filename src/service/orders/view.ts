import { legAmountToJson, minorToJson } from "../../core/split/allocation-json.ts";
import type { AllocationJson, ReversalJson } from "../../core/split/index.ts";
import type { Leg } from "../../core/split/types.ts";
import type { OrderRow } from "../../store/orders-sql.ts";

export type OrderState = "held" | "completed" | "released";
export type RefundState = "none" | "partially_refunded" | "refunded";

// The order row and its select list live with the table's queries (store/orders-sql.ts).
export { type OrderRow, order_columns, orderColumns } from "../../store/orders-sql.ts";

export interface OrderSummary {
  id: string;
  merchant_id: string;
  currency: string;
  paid_minor: bigint;
  paid_at: Date;
  state: OrderState;
  refund_state: RefundState;
  refunded_minor: bigint;
  completed_at: Date | null;
  releasable_at: Date | null;
  released_at: Date | null;
  policy_hash: string;
  transaction_id: string;
}

export interface OrderView extends OrderSummary {
  legs: AllocationJson["legs"];
  explanation: string[];
  flags: string[];
}

/**
 * What a batch returns per order: enough to reconcile (ids, state, each leg's
 * amount) without the notes and explanations, which GET /v1/orders/{id}
 * serves. Amounts are JSON numbers already (every one is at most paid_minor,
 * capped at 2^53 - 1), so a batch response serialises without a replacer.
 */
export interface OrderBrief {
  id: string;
  transaction_id: string;
  state: OrderState;
  paid_minor: number;
  policy_hash: string;
  legs: { party_id: string; role: string; amount_minor: number; rule_id: string; line_id?: string }[];
}

export function briefOf(
  row: OrderRow,
  legs: readonly {
    party_id: string;
    role: string;
    amount_minor: bigint | number;
    rule_id: string;
    line_id?: string;
  }[],
): OrderBrief {
  return {
    id: row.id,
    transaction_id: row.transaction_id,
    state: stateOf(row),
    paid_minor: minorToJson(row.paid_minor),
    policy_hash: row.policy_hash,
    legs: legs.map((leg) => ({
      party_id: leg.party_id,
      role: leg.role,
      amount_minor: typeof leg.amount_minor === "bigint" ? legAmountToJson(leg as Leg) : leg.amount_minor,
      rule_id: leg.rule_id,
      ...(leg.line_id === undefined ? {} : { line_id: leg.line_id }),
    })),
  };
}

export interface RefundView {
  refund_id: string;
  kind: "refund" | "chargeback";
  amount_minor: bigint;
  before_release: boolean;
  transaction_id: string;
  created_at: Date;
  reversal: ReversalJson;
}

export function stateOf(row: Pick<OrderRow, "completed_at" | "released_at">): OrderState {
  if (row.released_at !== null) return "released";
  if (row.completed_at !== null) return "completed";
  return "held";
}

export function refundStateOf(row: Pick<OrderRow, "refunded_minor" | "paid_minor">): RefundState {
  if (row.refunded_minor === 0n) return "none";
  return row.refunded_minor === row.paid_minor ? "refunded" : "partially_refunded";
}

export function summaryOf(row: OrderRow): OrderSummary {
  return {
    id: row.id,
    merchant_id: row.merchant_id,
    currency: row.currency,
    paid_minor: row.paid_minor,
    paid_at: row.paid_at,
    state: stateOf(row),
    refund_state: refundStateOf(row),
    refunded_minor: row.refunded_minor,
    completed_at: row.completed_at,
    releasable_at: row.releasable_at,
    released_at: row.released_at,
    policy_hash: row.policy_hash,
    transaction_id: row.transaction_id,
  };
}

/** What one caller may see of an order: the merchant and platform roles see every leg; other parties their own. */
export function viewOf(row: OrderRow, allocation: AllocationJson, party_id: string | null): OrderView {
  const sees_all = party_id === null || party_id === row.merchant_id;
  return {
    ...summaryOf(row),
    legs: sees_all ? allocation.legs : allocation.legs.filter((leg) => leg.party_id === party_id),
    explanation: sees_all ? allocation.explanation : [],
    flags: sees_all ? allocation.flags : [],
  };
}
