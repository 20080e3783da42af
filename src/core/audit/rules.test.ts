import { describe, expect, it } from "vitest";
import { isDomainError } from "../errors.ts";
import {
  auditConfigHash,
  evaluateBooking,
  evaluateCompletion,
  evaluateHistory,
  loadAuditConfig,
  parseAuditConfig,
} from "./config.ts";
import { judge } from "./four-eyes.ts";
import { median, rule_registry } from "./rules.ts";
import type { BookingFacts, OrderHistoryFacts, RefundHistoryFacts } from "./types.ts";

// Every built-in rule hits on facts over its threshold and stays silent on
// facts just inside it; the configuration is normalised and hashed; the
// four-eyes judge refuses every way of deciding twice.

const all_rules = {
  four_eyes_minor: 100_000,
  rules: [...rule_registry.keys()].map((id) => ({ id })),
};
const { config } = loadAuditConfig(all_rules);

const booking: BookingFacts = {
  order_id: "o-1",
  merchant_id: "m-1",
  buyer_ref: "u-1",
  referrers: ["r-1"],
  currency: "CNY",
  paid_minor: 10_000n,
  paid_at_ms: Date.parse("2026-11-25T10:00:00Z"),
  arrived_at_ms: Date.parse("2026-11-25T10:00:05Z"),
  platform_coupon_minor: 1_000n,
  flags: [],
  non_merchant_minor: 1_500n,
  cap_bp: 3_000,
  commission_legs: [{ amount_minor: 600n, basis_minor: 10_000n }],
  commission_bp_bounds: [400, 1_000],
};

const bookingRules = (facts: Partial<BookingFacts>) =>
  evaluateBooking(config, { ...booking, ...facts }).map((hit) => hit.rule_id);

const order: OrderHistoryFacts = {
  order_id: "o-1",
  merchant_id: "m-1",
  currency: "CNY",
  paid_minor: 10_000n,
  merchant_recent_paid_minor: Array.from({ length: 10 }, () => 9_000n),
  merchant_orders_in_window: 3,
  buyer_ref: "u-1",
  buyer_orders_in_window: 1,
};

const refund: RefundHistoryFacts = {
  order_id: "o-1",
  refund_id: "rf-1",
  merchant_id: "m-1",
  currency: "CNY",
  paid_minor: 10_000n,
  refund_minor: 2_000n,
  paid_at_ms: Date.parse("2026-11-25T10:00:00Z"),
  refunded_at_ms: Date.parse("2026-11-26T10:00:00Z"),
  merchant_orders_in_window: 100,
  merchant_refunds_in_window: 5,
  merchant_debt_minor: 0n,
};

const historyRules = (facts: { order?: Partial<OrderHistoryFacts>; refund?: Partial<RefundHistoryFacts> }) =>
  evaluateHistory(
    config,
    {
      ...(facts.order ? { order: { ...order, ...facts.order } } : {}),
      ...(facts.refund ? { refund: { ...refund, ...facts.refund } } : {}),
    },
    "event-1",
  ).map((hit) => hit.rule_id);

describe("booking rules", () => {
  it("say nothing about an ordinary order", () => {
    expect(bookingRules({})).toEqual([]);
  });
  it("split_cap_exceeded: hit on the allocation's cap flag only", () => {
    expect(bookingRules({ flags: ["cap_exceeded"] })).toEqual(["split_cap_exceeded"]);
    expect(bookingRules({ flags: ["merchant_negative_absorbed"] })).toEqual([]);
  });
  it("commission_out_of_bounds: an effective rate outside the declared rates and their slack", () => {
    expect(bookingRules({ commission_legs: [{ amount_minor: 1_100n, basis_minor: 10_000n }] })).toEqual([
      "commission_out_of_bounds",
    ]);
    expect(bookingRules({ commission_legs: [{ amount_minor: 300n, basis_minor: 10_000n }] })).toEqual([
      "commission_out_of_bounds",
    ]);
    // 10.51% against 10% + 50 bp of slack + one unit of rounding.
    expect(bookingRules({ commission_legs: [{ amount_minor: 1_051n, basis_minor: 10_000n }] })).toEqual([]);
    expect(bookingRules({ commission_legs: [{ amount_minor: 349n, basis_minor: 10_000n }] })).toEqual([]);
  });
  it("self_referral: the buyer or the merchant in the chain", () => {
    expect(bookingRules({ referrers: ["r-1", "u-1"] })).toEqual(["self_referral"]);
    expect(bookingRules({ referrers: ["m-1"] })).toEqual(["self_referral"]);
    expect(bookingRules({ referrers: ["r-1", "r-2"] })).toEqual([]);
  });
  it("platform_subsidy_over_limit: above the limit, not at it", () => {
    expect(bookingRules({ platform_coupon_minor: 50_001n })).toEqual(["platform_subsidy_over_limit"]);
    expect(bookingRules({ platform_coupon_minor: 50_000n })).toEqual([]);
  });
  it("event_time_skew: paid_at a day and a minute from arrival, either way", () => {
    const day = 86_400_000;
    expect(bookingRules({ arrived_at_ms: booking.paid_at_ms + day + 60_000 })).toEqual(["event_time_skew"]);
    expect(bookingRules({ arrived_at_ms: booking.paid_at_ms - day - 60_000 })).toEqual(["event_time_skew"]);
    expect(bookingRules({ arrived_at_ms: booking.paid_at_ms + day })).toEqual([]);
  });
  it("event_time_skew: completed_at a day and a minute from the completion's arrival hits; a day does not", () => {
    const day = 86_400_000;
    const completion = {
      order_id: "o-1",
      merchant_id: "m-1",
      currency: "CNY",
      paid_minor: 10_000n,
      completed_at_ms: Date.parse("2026-11-20T10:00:00Z"),
      arrived_at_ms: Date.parse("2026-11-20T10:00:00Z") + day + 60_000,
    };
    const [hit, ...rest] = evaluateCompletion(config, completion);
    expect(rest).toEqual([]);
    expect(hit).toMatchObject({
      rule_id: "event_time_skew",
      order_id: "o-1",
      dedupe_key: "event_time_skew:order:o-1:completed",
    });
    expect(hit!.inputs).toMatchObject({ field: "completed_at", completed_at: "2026-11-20T10:00:00.000Z" });
    expect(
      evaluateCompletion(config, { ...completion, arrived_at_ms: completion.completed_at_ms - day }),
    ).toEqual([]);
    // The rule switched off judges neither time.
    const off = loadAuditConfig({ four_eyes_minor: 1, rules: [{ id: "self_referral" }] }).config;
    expect(evaluateCompletion(off, completion)).toEqual([]);
  });
  it("records the inputs it used and the order as the subject", () => {
    const [hit] = evaluateBooking(config, { ...booking, referrers: ["u-1"] });
    expect(hit).toMatchObject({
      order_id: "o-1",
      amount_minor: 10_000n,
      dedupe_key: "self_referral:order:o-1",
    });
    expect(hit!.inputs).toEqual({ referrers: ["u-1"], merchant_id: "m-1", buyer_ref: "u-1" });
  });
});

describe("history rules", () => {
  it("order_amount_vs_median: 10× the median hits, just under does not, too little history says nothing", () => {
    expect(historyRules({ order: { paid_minor: 90_000n } })).toEqual(["order_amount_vs_median"]);
    expect(historyRules({ order: { paid_minor: 89_999n } })).toEqual([]);
    expect(historyRules({ order: { paid_minor: 90_000n, merchant_recent_paid_minor: [9_000n] } })).toEqual(
      [],
    );
  });
  it("order_velocity: per buyer and per merchant", () => {
    expect(historyRules({ order: { buyer_orders_in_window: 6 } })).toEqual(["order_velocity"]);
    expect(historyRules({ order: { merchant_orders_in_window: 501 } })).toEqual(["order_velocity"]);
    expect(historyRules({ order: { buyer_orders_in_window: 5, merchant_orders_in_window: 500 } })).toEqual(
      [],
    );
  });
  it("quick_refund: more than half within 30 minutes", () => {
    const soon = refund.paid_at_ms + 10 * 60_000;
    expect(historyRules({ refund: { refunded_at_ms: soon, refund_minor: 5_001n } })).toEqual([
      "quick_refund",
    ]);
    expect(historyRules({ refund: { refunded_at_ms: soon, refund_minor: 5_000n } })).toEqual([]);
    expect(historyRules({ refund: { refund_minor: 9_000n } })).toEqual([]);
  });
  it("merchant_refund_rate: over 20% with enough orders, as a party-level hit", () => {
    const hits = evaluateHistory(
      config,
      { refund: { ...refund, merchant_refunds_in_window: 21 } },
      "event-9",
    );
    expect(hits.map((hit) => hit.rule_id)).toEqual(["merchant_refund_rate"]);
    expect(hits[0]).toMatchObject({ order_id: null, party_id: "m-1" });
    expect(historyRules({ refund: { merchant_refunds_in_window: 20 } })).toEqual([]);
    expect(
      historyRules({ refund: { merchant_refunds_in_window: 19, merchant_orders_in_window: 19 } }),
    ).toEqual([]);
  });
  it("merchant_debt_over_limit: above the limit", () => {
    expect(historyRules({ refund: { merchant_debt_minor: 100_001n } })).toEqual(["merchant_debt_over_limit"]);
    expect(historyRules({ refund: { merchant_debt_minor: 100_000n } })).toEqual([]);
  });
  it("the lower median is exact", () => {
    expect(median([5n, 1n, 3n, 9n])).toBe(3n);
    expect(median([7n])).toBe(7n);
  });
});

describe("configuration", () => {
  it("is normalised, so equivalent documents share one hash", () => {
    const a = parseAuditConfig({
      four_eyes_minor: 5,
      rules: [{ id: "self_referral" }, { id: "quick_refund" }],
    });
    const b = parseAuditConfig({
      rules: [
        { id: "quick_refund", params: { within_ms: 1_800_000 } },
        { id: "self_referral", params: {} },
      ],
      four_eyes_minor: 5,
    });
    expect(auditConfigHash(a)).toBe(auditConfigHash(b));
    expect(auditConfigHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(auditConfigHash(parseAuditConfig({ four_eyes_minor: 6, rules: a.rules }))).not.toBe(
      auditConfigHash(a),
    );
  });
  it.each([
    [{ four_eyes_minor: 1, rules: [{ id: "no_such_rule" }] }, "audit_rule_unknown", "rules[0].id"],
    [{ four_eyes_minor: -1, rules: [] }, "audit_config_invalid", "four_eyes_minor"],
    [
      { four_eyes_minor: 1, rules: [{ id: "quick_refund", params: { share_bp: 10_001 } }] },
      "audit_config_invalid",
      "rules[0].params.share_bp",
    ],
    [
      { four_eyes_minor: 1, rules: [{ id: "quick_refund", params: { speed: 1 } }] },
      "audit_config_invalid",
      "rules[0].params.speed",
    ],
    [
      { four_eyes_minor: 1, rules: [{ id: "self_referral" }, { id: "self_referral" }] },
      "audit_config_invalid",
      "rules[1].id",
    ],
    [{ four_eyes_minor: 1, rules: [], extra: true }, "audit_config_invalid", "extra"],
  ])("refuses %j with %s naming %s", (body, code, field) => {
    try {
      parseAuditConfig(body);
      expect.unreachable("the configuration was accepted");
    } catch (error) {
      expect(isDomainError(error) && error.code).toBe(code);
      expect(isDomainError(error) && error.field).toBe(field);
    }
  });
});

describe("four eyes", () => {
  const open = {
    state: "open" as const,
    amount_minor: 200_000n,
    claimed_by: null,
    involved: [],
    pending: null,
  };
  const alice = { actor: "user:alice", person: "user:alice", role: "reviewer" };
  const alice_key = { actor: "key:abc", person: "user:alice", role: "reviewer" };
  const admin = { actor: "user:root", person: "user:root", role: "platform_admin" };
  const orphan_key = { actor: "key:xyz", person: null, role: "platform_admin" };
  const pending = {
    decision: "approve" as const,
    person: "user:alice",
    actor: "user:alice",
    reason: "ok",
    input: null,
    at: "",
  };
  const awaiting = { ...open, state: "awaiting_second_approval" as const, pending };
  const code = (fn: () => unknown) => {
    try {
      fn();
      return "accepted";
    } catch (error) {
      return isDomainError(error) ? error.code : "crash";
    }
  };

  it("below the threshold one person decides; at it, the first decision waits", () => {
    expect(judge({ ...open, amount_minor: 99_999n }, alice, "approve", 100_000n).outcome).toBe("apply");
    expect(judge({ ...open, amount_minor: 100_000n }, alice, "approve", 100_000n).outcome).toBe(
      "await_second",
    );
  });
  it("the same person cannot supply the second approval, with a key or a session", () => {
    expect(code(() => judge(awaiting, alice, "approve", 100_000n))).toBe("four_eyes_same_person");
    expect(code(() => judge(awaiting, alice_key, "approve", 100_000n))).toBe("four_eyes_same_person");
    expect(judge(awaiting, admin, "approve", 100_000n)).toMatchObject({
      outcome: "apply",
      second_of: pending,
    });
  });
  it("an admin's first decision waits like anyone's, and a key of no user cannot take part", () => {
    expect(judge(open, admin, "reverse", 100_000n).outcome).toBe("await_second");
    expect(code(() => judge(open, orphan_key, "approve", 100_000n))).toBe("four_eyes_person_required");
    expect(judge({ ...open, amount_minor: 5n }, orphan_key, "approve", 100_000n).outcome).toBe("apply");
  });
  it("a rejection stops a pending decision; another decision cannot ride on it", () => {
    expect(judge(awaiting, admin, "reject", 100_000n).outcome).toBe("reject");
    expect(code(() => judge(awaiting, admin, "reverse", 100_000n))).toBe("four_eyes_decision_mismatch");
    expect(code(() => judge(open, admin, "reject", 100_000n))).toBe("case_nothing_to_reject");
  });
  it("refuses closed cases, one's own case, and another's claim", () => {
    expect(code(() => judge({ ...open, state: "approved" }, admin, "approve", 0n))).toBe("case_closed");
    expect(code(() => judge({ ...open, involved: ["user:alice"] }, alice_key, "approve", 0n))).toBe(
      "case_self_review",
    );
    expect(code(() => judge({ ...open, claimed_by: "user:bob" }, alice, "approve", 0n))).toBe("case_claimed");
  });
});
