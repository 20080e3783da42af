import { assert } from "../assert.ts";
import type {
  BookingFacts,
  HistoryFacts,
  OrderHistoryFacts,
  ParamSpec,
  RefundHistoryFacts,
  RuleFinding,
  RuleParams,
  RuleStage,
} from "./types.ts";

// The built-in rules, registered by id. Each is pure: its facts and its
// parameters in, a finding (reason + the inputs it used) or null out.

export interface RuleDefinition<F> {
  readonly id: string;
  readonly stage: RuleStage;
  /** Whether a hit concerns an order, or a party as a whole (a case on the party). */
  readonly level: "order" | "party";
  readonly title: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly check: (params: RuleParams, facts: F) => RuleFinding | null;
}

const minute_ms = 60_000;
const day_ms = 24 * 60 * minute_ms;
const minor_max = Number.MAX_SAFE_INTEGER;

const num = (value: bigint): number => Number(value);

const cap: RuleDefinition<BookingFacts> = {
  id: "split_cap_exceeded",
  stage: "booking",
  level: "order",
  title: "The non-merchant share is over the policy's cap",
  params: {},
  check: (_params, facts) => {
    if (!facts.flags.includes("cap_exceeded")) return null;
    return {
      reason: `non-merchant legs take ${facts.non_merchant_minor} of ${facts.paid_minor}, over the policy's cap of ${facts.cap_bp} bp`,
      inputs: {
        non_merchant_minor: num(facts.non_merchant_minor),
        paid_minor: num(facts.paid_minor),
        cap_bp: facts.cap_bp,
      },
    };
  },
};

const commission_bounds: RuleDefinition<BookingFacts> = {
  id: "commission_out_of_bounds",
  stage: "booking",
  level: "order",
  title: "A commission leg's effective rate is outside the rates the policy declares",
  params: {
    // A leg's effective rate moves a little off the table's rate when the
    // receivers bear the PSP fee or a line minimum applies: slack for that.
    tolerance_bp: { default: 50, min: 0, max: 10_000, meaning: "slack around the declared rates, bp" },
  },
  check: (params, facts) => {
    if (facts.commission_bp_bounds === null) return null;
    const [min_bp, max_bp] = facts.commission_bp_bounds;
    const tolerance_bp = params.tolerance_bp!;
    for (const leg of facts.commission_legs) {
      if (leg.basis_minor <= 0n) continue;
      // amount / basis against bp / 10 000, cross-multiplied: exact, no floats; one unit of rounding slack.
      const low = (leg.amount_minor + 1n) * 10_000n < BigInt(min_bp - tolerance_bp) * leg.basis_minor;
      const high = (leg.amount_minor - 1n) * 10_000n > BigInt(max_bp + tolerance_bp) * leg.basis_minor;
      if (!low && !high) continue;
      return {
        reason: `commission of ${leg.amount_minor} on ${leg.basis_minor}${leg.line_id ? ` (line ${leg.line_id})` : ""} is ${low ? "below" : "above"} the policy's ${low ? min_bp : max_bp} bp`,
        inputs: {
          amount_minor: num(leg.amount_minor),
          basis_minor: num(leg.basis_minor),
          line_id: leg.line_id ?? null,
          min_bp,
          max_bp,
          tolerance_bp,
        },
      };
    }
    return null;
  },
};

const self_referral: RuleDefinition<BookingFacts> = {
  id: "self_referral",
  stage: "booking",
  level: "order",
  title: "The buyer, or the order's own merchant, is in its referral chain",
  params: {},
  check: (_params, facts) => {
    const merchant = facts.referrers.indexOf(facts.merchant_id);
    const buyer = facts.buyer_ref === null ? -1 : facts.referrers.indexOf(facts.buyer_ref);
    if (merchant < 0 && buyer < 0) return null;
    const who = buyer >= 0 ? "the buyer" : "the order's merchant";
    const level = (buyer >= 0 ? buyer : merchant) + 1;
    return {
      reason: `${who} is the level-${level} referrer of its own order`,
      inputs: { referrers: [...facts.referrers], merchant_id: facts.merchant_id, buyer_ref: facts.buyer_ref },
    };
  },
};

const subsidy: RuleDefinition<BookingFacts> = {
  id: "platform_subsidy_over_limit",
  stage: "booking",
  level: "order",
  title: "Platform-funded coupons on one order above a limit",
  params: {
    limit_minor: { default: 50_000, min: 0, max: minor_max, meaning: "largest platform subsidy per order" },
  },
  check: (params, facts) => {
    if (facts.platform_coupon_minor <= BigInt(params.limit_minor!)) return null;
    return {
      reason: `platform-funded coupons of ${facts.platform_coupon_minor} exceed the limit of ${params.limit_minor}`,
      inputs: { platform_coupon_minor: num(facts.platform_coupon_minor), limit_minor: params.limit_minor! },
    };
  },
};

const time_skew: RuleDefinition<BookingFacts> = {
  id: "event_time_skew",
  stage: "booking",
  level: "order",
  title: "paid_at or completed_at far from the time the event arrived",
  params: {
    skew_ms_max: {
      default: day_ms,
      min: minute_ms,
      max: 366 * day_ms,
      meaning: "largest |arrival − paid_at| or |arrival − completed_at|",
    },
  },
  check: (params, facts) =>
    timeSkewFinding("paid_at", facts.paid_at_ms, facts.arrived_at_ms, params.skew_ms_max!),
};

/**
 * The `event_time_skew` judgement of one stamped time against the arrival of
 * its event: `paid_at` at booking, `completed_at` when the buyer's receipt is
 * reported (the completion runs it inside its own transaction).
 */
export function timeSkewFinding(
  field: "paid_at" | "completed_at",
  at_ms: number,
  arrived_at_ms: number,
  skew_ms_max: number,
): RuleFinding | null {
  assert(Number.isFinite(at_ms), `${field} is a time`);
  assert(Number.isFinite(arrived_at_ms), "the arrival is a time");
  const skew_ms = arrived_at_ms - at_ms;
  if (Math.abs(skew_ms) <= skew_ms_max) return null;
  return {
    reason: `${field} is ${Math.round(Math.abs(skew_ms) / minute_ms)} minutes ${skew_ms < 0 ? "after" : "before"} the event arrived (at most ${Math.round(skew_ms_max / minute_ms)})`,
    inputs: {
      field,
      [field]: new Date(at_ms).toISOString(),
      arrived_at: new Date(arrived_at_ms).toISOString(),
      skew_ms,
      skew_ms_max,
    },
  };
}

const amount_vs_median: RuleDefinition<HistoryFacts> = {
  id: "order_amount_vs_median",
  stage: "history",
  level: "order",
  title: "An order amount at least N× the merchant's trailing median",
  params: {
    multiple: { default: 10, min: 2, max: 1_000, meaning: "N" },
    history_orders: { default: 50, min: 3, max: 1_000, meaning: "how many earlier orders make the median" },
    history_orders_min: { default: 5, min: 1, max: 1_000, meaning: "no judgement with fewer" },
  },
  check: (params, { order }) => {
    if (order === undefined) return null;
    const history = order.merchant_recent_paid_minor.slice(0, params.history_orders!);
    if (history.length < params.history_orders_min!) return null;
    const median_minor = median(history);
    if (order.paid_minor < BigInt(params.multiple!) * median_minor) return null;
    return {
      reason: `${order.paid_minor} is at least ${params.multiple}× the merchant's median of ${median_minor} over ${history.length} orders`,
      inputs: {
        paid_minor: num(order.paid_minor),
        median_minor: num(median_minor),
        history_orders: history.length,
        multiple: params.multiple!,
      },
    };
  },
};

/** The lower median of a non-empty list, exact in bigint. */
export function median(values: readonly bigint[]): bigint {
  assert(values.length > 0, "the median of nothing");
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const velocity: RuleDefinition<HistoryFacts> = {
  id: "order_velocity",
  stage: "history",
  level: "order",
  title: "Too many orders per buyer or per merchant in a window",
  params: {
    window_ms: { default: 10 * minute_ms, min: minute_ms, max: 30 * day_ms, meaning: "the window" },
    buyer_orders_max: { default: 5, min: 1, max: 1_000_000, meaning: "orders per buyer in the window" },
    merchant_orders_max: { default: 500, min: 1, max: 10_000_000, meaning: "orders per merchant" },
  },
  check: (params, { order }) => {
    if (order === undefined) return null;
    const buyer = order.buyer_ref !== null && order.buyer_orders_in_window > params.buyer_orders_max!;
    const merchant = order.merchant_orders_in_window > params.merchant_orders_max!;
    if (!buyer && !merchant) return null;
    return {
      reason: buyer
        ? `buyer ${order.buyer_ref} placed ${order.buyer_orders_in_window} orders in ${params.window_ms! / minute_ms} minutes (at most ${params.buyer_orders_max})`
        : `merchant ${order.merchant_id} took ${order.merchant_orders_in_window} orders in ${params.window_ms! / minute_ms} minutes (at most ${params.merchant_orders_max})`,
      inputs: velocityInputs(params, order),
    };
  },
};

function velocityInputs(params: RuleParams, order: OrderHistoryFacts): Record<string, unknown> {
  return {
    buyer_ref: order.buyer_ref,
    buyer_orders_in_window: order.buyer_orders_in_window,
    merchant_orders_in_window: order.merchant_orders_in_window,
    window_ms: params.window_ms!,
    buyer_orders_max: params.buyer_orders_max!,
    merchant_orders_max: params.merchant_orders_max!,
  };
}

const quick_refund: RuleDefinition<HistoryFacts> = {
  id: "quick_refund",
  stage: "history",
  level: "order",
  title: "A refund within X minutes of payment for more than Y% of the amount",
  params: {
    within_ms: { default: 30 * minute_ms, min: minute_ms, max: 30 * day_ms, meaning: "X" },
    share_bp: { default: 5_000, min: 0, max: 10_000, meaning: "Y, in basis points of the paid amount" },
  },
  check: (params, { refund }) => {
    if (refund === undefined) return null;
    const after_ms = refund.refunded_at_ms - refund.paid_at_ms;
    if (after_ms > params.within_ms!) return null;
    if (refund.refund_minor * 10_000n <= BigInt(params.share_bp!) * refund.paid_minor) return null;
    return {
      reason: `${refund.refund_minor} of ${refund.paid_minor} refunded ${Math.round(after_ms / minute_ms)} minutes after payment`,
      inputs: refundInputs(refund, { after_ms, within_ms: params.within_ms!, share_bp: params.share_bp! }),
    };
  },
};

const refund_rate: RuleDefinition<HistoryFacts> = {
  id: "merchant_refund_rate",
  stage: "history",
  level: "party",
  title: "A merchant's refunds and chargebacks over a rate in a window",
  params: {
    window_ms: { default: 7 * day_ms, min: minute_ms, max: 366 * day_ms, meaning: "the window" },
    rate_bp: { default: 2_000, min: 0, max: 10_000, meaning: "refunds per order, in basis points" },
    orders_min: { default: 20, min: 1, max: 1_000_000, meaning: "no judgement with fewer orders" },
  },
  check: (params, { refund }) => {
    if (refund === undefined || refund.merchant_orders_in_window < params.orders_min!) return null;
    const refunds = BigInt(refund.merchant_refunds_in_window);
    if (refunds * 10_000n <= BigInt(params.rate_bp!) * BigInt(refund.merchant_orders_in_window)) return null;
    return {
      reason: `merchant ${refund.merchant_id}: ${refund.merchant_refunds_in_window} refunds on ${refund.merchant_orders_in_window} orders, over ${params.rate_bp} bp`,
      inputs: {
        merchant_id: refund.merchant_id,
        refunds: refund.merchant_refunds_in_window,
        orders: refund.merchant_orders_in_window,
        rate_bp: params.rate_bp!,
        window_ms: params.window_ms!,
      },
    };
  },
};

const debt: RuleDefinition<HistoryFacts> = {
  id: "merchant_debt_over_limit",
  stage: "history",
  level: "party",
  title: "A merchant's debt over a limit",
  params: { limit_minor: { default: 100_000, min: 0, max: minor_max, meaning: "largest debt" } },
  check: (params, { refund }) => {
    if (refund === undefined || refund.merchant_debt_minor <= BigInt(params.limit_minor!)) return null;
    return {
      reason: `merchant ${refund.merchant_id} owes ${refund.merchant_debt_minor} ${refund.currency}, over the limit of ${params.limit_minor}`,
      inputs: {
        merchant_id: refund.merchant_id,
        debt_minor: num(refund.merchant_debt_minor),
        limit_minor: params.limit_minor!,
      },
    };
  },
};

function refundInputs(refund: RefundHistoryFacts, extra: Record<string, number>): Record<string, unknown> {
  return {
    refund_id: refund.refund_id,
    paid_minor: num(refund.paid_minor),
    refund_minor: num(refund.refund_minor),
    paid_at: new Date(refund.paid_at_ms).toISOString(),
    refunded_at: new Date(refund.refunded_at_ms).toISOString(),
    ...extra,
  };
}

const reconciliation: RuleDefinition<never> = {
  id: "reconciliation_mismatch",
  stage: "external",
  level: "order",
  title: "A reconciliation mismatch (raised by settlement)",
  params: {},
  check: () => null,
};

const manual: RuleDefinition<never> = {
  id: "manual_flag",
  stage: "external",
  level: "order",
  title: "A manual flag by finance",
  params: {},
  check: () => null,
};

export const booking_rules: readonly RuleDefinition<BookingFacts>[] = [
  cap,
  commission_bounds,
  self_referral,
  subsidy,
  time_skew,
];
export const history_rules: readonly RuleDefinition<HistoryFacts>[] = [
  amount_vs_median,
  velocity,
  quick_refund,
  refund_rate,
  debt,
];
export const external_rules: readonly RuleDefinition<never>[] = [reconciliation, manual];

/** Every built-in rule by id. */
export const rule_registry: ReadonlyMap<string, RuleDefinition<never>> = new Map(
  [...booking_rules, ...history_rules, ...external_rules].map((rule) => [
    rule.id,
    rule as RuleDefinition<never>,
  ]),
);
