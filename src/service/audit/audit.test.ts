import { afterAll, beforeAll, describe, expect, it } from "vitest";
import issue_order from "../../../examples/orders/b2b2c-issue-example.json" with { type: "json" };
import self_referral_order from "../../../examples/orders/b2b2c-self-referral.json" with { type: "json" };
import { isDomainError } from "../../core/errors.ts";
import type { Database } from "../../store/database.ts";
import { newTestTenant, openTestDatabase, testClock } from "../../testing/db.ts";
import { expectLedgerInvariants } from "../../testing/invariants.ts";
import { seedExampleMarketplace } from "../../testing/marketplace.ts";
import { verifyBundle } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { sequenceEventsOnce } from "../events/event-sequencer.ts";
import { bookOrders } from "../orders/book.ts";
import { completeOrder, refundOrder, releaseDue, releaseOrder } from "../orders/order-lifecycle.ts";
import { getOrderDetail } from "../orders/order-reads.ts";
import { auditLog } from "../tlog/log-audit.ts";
import { LogKeyStore, logVkey } from "../tlog/signing-keys.ts";
import { sequenceAll } from "../tlog/testing.ts";
import type { Actor } from "./actor.ts";
import { backtestConfig } from "./backtest.ts";
import { claimCase, commentOnCase, flagOrder, listCases } from "./cases.ts";
import { createAuditConfigDraft, publishAuditConfig } from "./configs.ts";
import { decideCase } from "./decide-case.ts";
import { runAuditRound } from "./runner.ts";
import { caseTrail } from "./trail.ts";

// Cases hold funds until decided; four eyes counts people, not credentials;
// reversals and adjustments keep the ledger balanced; every action is a log
// record whose bundle verifies; the history rules resume after a restart and
// never record a hit twice; bad input changes nothing.

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

const finance: Actor = { actor: "user:fin", person: "user:fin", role: "finance" };
const alice: Actor = { actor: "user:alice", person: "user:alice", role: "reviewer" };
const alice_key: Actor = { actor: "key:alicekey", person: "user:alice", role: "reviewer" };
const bob: Actor = { actor: "user:bob", person: "user:bob", role: "reviewer" };
const admin: Actor = { actor: "user:root", person: "user:root", role: "platform_admin" };
const orphan_key: Actor = { actor: "key:nobody", person: null, role: "platform_admin" };

const booking_rules = [
  { id: "self_referral" },
  { id: "split_cap_exceeded" },
  { id: "commission_out_of_bounds" },
  { id: "platform_subsidy_over_limit" },
  { id: "event_time_skew" },
];

async function world(four_eyes_minor: number, rules: unknown[] = booking_rules) {
  const clock = testClock("2026-11-25T10:00:00Z");
  const ctx: ServiceContext = { db, now: clock.now };
  const tenant = await newTestTenant(ctx, "audit");
  await seedExampleMarketplace(ctx, tenant, 60_000);
  const draft = await createAuditConfigDraft(
    ctx,
    tenant,
    { name: "test", body: { four_eyes_minor, rules } },
    finance,
  );
  await publishAuditConfig(ctx, tenant, draft.id, finance);
  return { ctx, clock, tenant, config_hash: draft.hash };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    return isDomainError(error) ? error.code : String(error);
  }
}

async function counts(tenant: string) {
  const [row] = await db.query<{ actions: bigint; journal: bigint; configs: bigint }>(
    `SELECT (SELECT count(*) FROM audit_actions WHERE tenant_id = $1)::int8 AS actions,
            (SELECT count(*) FROM journal_transactions WHERE tenant_id = $1)::int8 AS journal,
            (SELECT count(*) FROM audit_configs WHERE tenant_id = $1)::int8 AS configs`,
    [tenant],
  );
  return row;
}

async function parked(tenant: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    "SELECT id FROM orders WHERE tenant_id = $1 AND release_parked ORDER BY id",
    [tenant],
  );
  return rows.map((row) => row.id);
}

async function openCaseOf(tenant: string, order_id: string): Promise<string> {
  const { items } = await listCases(db, tenant, { order_id, state: "any_open" });
  expect(items).toHaveLength(1);
  return items[0]!.id;
}

describe("audit cases (service)", () => {
  it("a booking rule opens a case that holds the order's funds until it is approved", async () => {
    const { ctx, clock, tenant, config_hash } = await world(1_000_000);
    const results = await bookOrders(ctx, tenant, [issue_order, self_referral_order]);
    expect(results.map((r) => r.status)).toEqual(["created", "created"]);
    const { items } = await listCases(db, tenant, {});
    expect(items.map((c) => [c.order_id, c.rule_ids, c.state, c.config_hash])).toEqual([
      [self_referral_order.id, ["self_referral"], "open", config_hash],
    ]);
    const case_id = items[0]!.id;
    for (const order of [issue_order, self_referral_order]) await completeOrder(ctx, tenant, order.id);
    clock.advance(61_000);
    expect(await releaseDue(ctx, tenant)).toBe(1); // The scheduler's path skips the blocked order.
    // ...and parks it: later rounds no longer walk it (decisions §45).
    expect(await parked(tenant)).toEqual([self_referral_order.id]);
    expect(await releaseDue(ctx, tenant)).toBe(0);
    expect(await codeOf(releaseOrder(ctx, tenant, self_referral_order.id))).toBe("order_blocked_by_case");
    const scope = { tenant_id: tenant, party_id: null };
    expect((await getOrderDetail(db, scope, self_referral_order.id)).blocked_by_case).toEqual({
      case_ids: [case_id],
    });
    expect((await getOrderDetail(db, scope, issue_order.id)).blocked_by_case).toBeNull();
    const decided = await decideCase(
      ctx,
      tenant,
      case_id,
      { decision: "approve", reason: "known referrer" },
      alice,
    );
    expect(decided.case.state).toBe("approved");
    // The decision unparked it; the next round releases it.
    expect(await parked(tenant)).toEqual([]);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    expect((await getOrderDetail(db, scope, self_referral_order.id)).state).toBe("released");
    await expectLedgerInvariants(db, tenant);
  });

  it("event_time_skew judges a stated completed_at: a back-dated receipt opens a case that holds the order", async () => {
    const { ctx, clock, tenant } = await world(1_000_000);
    const late = {
      ...issue_order,
      id: "WST-LATE-RECEIPT",
      psp: { ...issue_order.psp, reference: "42-late" },
    };
    await bookOrders(ctx, tenant, [issue_order, late]);
    clock.advance(3 * 86_400_000);
    // Before paid_at: refused, nothing changes.
    expect(await codeOf(completeOrder(ctx, tenant, late.id, new Date("2026-11-24T00:00:00Z")))).toBe(
      "completed_at_invalid",
    );
    expect((await listCases(db, tenant, {})).items).toEqual([]);
    // Within a day of the report: no hit; the window runs from the stated time.
    const fresh = await completeOrder(
      ctx,
      tenant,
      issue_order.id,
      new Date(clock.now().getTime() - 3_600_000),
    );
    expect(fresh.completed_at?.toISOString()).toBe(new Date(clock.now().getTime() - 3_600_000).toISOString());
    expect((await listCases(db, tenant, {})).items).toEqual([]);
    // Three days back: its window is long over, but the case opened in the same transaction holds it.
    await completeOrder(ctx, tenant, late.id, new Date("2026-11-25T10:00:00Z"));
    const { items } = await listCases(db, tenant, {});
    expect(items.map((c) => [c.order_id, c.rule_ids, c.state])).toEqual([
      [late.id, ["event_time_skew"], "open"],
    ]);
    expect(await releaseDue(ctx, tenant)).toBe(1);
    expect(await codeOf(releaseOrder(ctx, tenant, late.id))).toBe("order_blocked_by_case");
    // Completing again is a no-op and raises nothing twice.
    await completeOrder(ctx, tenant, late.id, new Date("2026-11-25T10:00:00Z"));
    expect((await listCases(db, tenant, {})).items).toHaveLength(1);
  });

  it("a back-test counts buyer velocity from the orders themselves, before the history rules ever ran", async () => {
    const { ctx, tenant } = await world(1_000_000, []);
    const minute = 60_000;
    const at = (minutes: number) =>
      new Date(Date.parse("2026-11-20T10:00:00Z") + minutes * minute).toISOString();
    const order = (id: string, minutes: number) => ({
      ...issue_order,
      id,
      paid_at: at(minutes),
      psp: { ...issue_order.psp, reference: `42-${id}` },
    });
    // Buyer u-42: three orders within 10 minutes (the third is over a limit of 2), then one an hour later.
    await bookOrders(ctx, tenant, [order("V1", 0), order("V2", 3), order("V3", 6), order("V4", 66)]);
    const draft = await createAuditConfigDraft(
      ctx,
      tenant,
      {
        name: "velocity",
        body: {
          four_eyes_minor: 1,
          rules: [{ id: "order_velocity", params: { window_ms: 10 * minute, buyer_orders_max: 2 } }],
        },
      },
      finance,
    );
    const report = await backtestConfig(db, tenant, draft.id, {
      from: new Date("2026-11-20T00:00:00Z"),
      to: new Date("2026-11-21T00:00:00Z"),
    });
    expect(report.orders_evaluated).toBe(4);
    const [velocity] = report.rules;
    expect(velocity).toMatchObject({ rule_id: "order_velocity", hits: 1 });
    expect(velocity!.sample.map((hit) => hit.order_id)).toEqual(["V3"]);
    expect(velocity!.sample[0]!.reason).toContain("buyer u-42 placed 3 orders");
    // Shadow mode: no case, no buyer rows recorded.
    expect((await listCases(db, tenant, {})).items).toEqual([]);
    const [recorded] = await db.query<{ n: bigint }>(
      "SELECT count(*)::int8 AS n FROM audit_buyer_orders WHERE tenant_id = $1",
      [tenant],
    );
    expect(recorded!.n).toBe(0n);
  });

  it("four eyes: nobody decides twice, a key of no user cannot, a rejection stops it, an admin does not skip", async () => {
    const { ctx, tenant } = await world(10_000);
    await bookOrders(ctx, tenant, [self_referral_order]);
    const case_id = await openCaseOf(tenant, self_referral_order.id);
    expect(
      await codeOf(decideCase(ctx, tenant, case_id, { decision: "approve", reason: "x" }, orphan_key)),
    ).toBe("four_eyes_person_required");
    const first = await decideCase(ctx, tenant, case_id, { decision: "approve", reason: "fine" }, alice);
    expect(first.case.state).toBe("awaiting_second_approval");
    for (const same of [alice, alice_key]) {
      expect(
        await codeOf(decideCase(ctx, tenant, case_id, { decision: "approve", reason: "again" }, same)),
      ).toBe("four_eyes_same_person");
    }
    const rejected = await decideCase(
      ctx,
      tenant,
      case_id,
      { decision: "reject", reason: "not so fast" },
      bob,
    );
    expect(rejected.case.state).toBe("rejected");
    expect(await codeOf(releaseOrder(ctx, tenant, self_referral_order.id))).toBe("order_blocked_by_case");
    // The admin's decision is a first decision like any other.
    const by_admin = await decideCase(
      ctx,
      tenant,
      case_id,
      { decision: "reverse", reason: "refund the buyer" },
      admin,
    );
    expect(by_admin.case.state).toBe("awaiting_second_approval");
    expect(await codeOf(decideCase(ctx, tenant, case_id, { decision: "approve", reason: "?" }, bob))).toBe(
      "four_eyes_decision_mismatch",
    );
    const second = await decideCase(ctx, tenant, case_id, { decision: "reverse", reason: "agreed" }, bob);
    expect(second.case.state).toBe("reversed");
    expect(second.transaction_id).not.toBeNull();
    const [suspense] = await db.query<{ posted: bigint }>(
      `SELECT coalesce(sum(b.posted_minor), 0)::int8 AS posted FROM accounts a JOIN balances b
          ON b.tenant_id = a.tenant_id AND b.account_id = a.id
        WHERE a.tenant_id = $1 AND a.party_id = 'platform' AND a.purpose = 'suspense'`,
      [tenant],
    );
    expect(suspense!.posted).toBe(BigInt(self_referral_order.paid_minor)); // Exact to the unit.
    const [held] = await db.query<{ held: bigint }>(
      `SELECT coalesce(sum(p.amount_minor), 0)::int8 AS held FROM journal_transactions j
         JOIN postings p ON p.tenant_id = j.tenant_id AND p.transaction_id = j.id
         JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
        WHERE j.tenant_id = $1 AND j.order_id = $2 AND a.purpose = 'held'`,
      [tenant, self_referral_order.id],
    );
    expect(held!.held).toBe(0n);
    await expectLedgerInvariants(db, tenant);
  });

  it("adjusts with a correcting transaction; refuses self-review and bad input without changing anything", async () => {
    const { ctx, tenant } = await world(1_000_000);
    await bookOrders(ctx, tenant, [issue_order]);
    const flagged = await flagOrder(ctx, tenant, { order_id: issue_order.id, reason: "odd basket" }, alice);
    expect(flagged.rule_ids).toEqual(["manual_flag"]);
    // The same person flags the same order again in the same millisecond (the clock is frozen): a
    // second hit on the open case, never a refusal or a crash (the simulation's seed 363978003).
    const again = await flagOrder(ctx, tenant, { order_id: issue_order.id, reason: "still odd" }, alice);
    expect(again.id).toBe(flagged.id);
    const [hits] = await db.query<{ n: number }>(
      "SELECT count(*)::int4 AS n FROM audit_hits WHERE tenant_id = $1 AND case_id = $2 AND rule_id = 'manual_flag'",
      [tenant, flagged.id],
    );
    expect(hits!.n).toBe(2);
    const before = await counts(tenant);
    const refusals = [
      () => decideCase(ctx, tenant, flagged.id, { decision: "approve", reason: "mine" }, alice),
      () => decideCase(ctx, tenant, flagged.id, { decision: "approve", reason: "mine" }, alice_key),
      () =>
        decideCase(
          ctx,
          tenant,
          "0190a000-0000-7000-8000-000000000000",
          { decision: "approve", reason: "?" },
          bob,
        ),
      () => decideCase(ctx, tenant, "not-a-uuid", { decision: "approve", reason: "?" }, bob),
      () => commentOnCase(ctx, tenant, flagged.id, "x".repeat(2_001), bob),
      () => commentOnCase(ctx, tenant, flagged.id, "", bob),
      () =>
        decideCase(
          ctx,
          tenant,
          flagged.id,
          { decision: "adjust", reason: "r", entries: [{ party_id: "m-1001" }] },
          bob,
        ),
      () =>
        decideCase(
          ctx,
          tenant,
          flagged.id,
          {
            decision: "adjust",
            reason: "unbalanced",
            entries: [
              { party_id: "m-1001", purpose: "held", side: "debit", amount_minor: 100 },
              { party_id: "platform", purpose: "suspense", side: "credit", amount_minor: 99 },
            ],
          },
          bob,
        ),
      () =>
        createAuditConfigDraft(
          ctx,
          tenant,
          { name: "bad", body: { four_eyes_minor: 1, rules: [{ id: "vibes" }] } },
          finance,
        ),
    ];
    const codes = [];
    for (const refusal of refusals) codes.push(await codeOf(refusal()));
    expect(codes).toEqual([
      "case_self_review",
      "case_self_review",
      "case_not_found",
      "case_not_found",
      "audit_comment_invalid",
      "audit_comment_invalid",
      "adjustment_invalid",
      "adjustment_invalid",
      "audit_rule_unknown",
    ]);
    expect(await counts(tenant)).toEqual(before);
    await claimCase(ctx, tenant, flagged.id, bob);
    expect(await codeOf(claimCase(ctx, tenant, flagged.id, admin))).toBe("case_claimed");
    await commentOnCase(ctx, tenant, flagged.id, "moving the coupon back", bob);
    const adjusted = await decideCase(
      ctx,
      tenant,
      flagged.id,
      {
        decision: "adjust",
        reason: "coupon booked twice",
        entries: [
          { party_id: "m-1001", purpose: "held", side: "debit", amount_minor: 500 },
          { party_id: "platform", purpose: "suspense", side: "credit", amount_minor: 500 },
        ],
      },
      bob,
    );
    expect(adjusted.case.state).toBe("adjusted");
    const [tx] = await db.query<{ kind: string; memo: string }>(
      "SELECT kind, memo FROM journal_transactions WHERE tenant_id = $1 AND id = $2",
      [tenant, adjusted.transaction_id],
    );
    expect(tx).toEqual({ kind: "audit_adjustment", memo: "coupon booked twice" });
    const closed = await counts(tenant);
    expect(
      await codeOf(decideCase(ctx, tenant, flagged.id, { decision: "approve", reason: "again" }, admin)),
    ).toBe("case_closed");
    expect(await counts(tenant)).toEqual(closed);
    await expectLedgerInvariants(db, tenant);
  });

  it("every action is a log record whose proof bundle verifies, and the tamper check rebuilds them", async () => {
    const { ctx, tenant } = await world(10_000);
    await bookOrders(ctx, tenant, [self_referral_order]);
    const case_id = await openCaseOf(tenant, self_referral_order.id);
    await claimCase(ctx, tenant, case_id, alice);
    await commentOnCase(ctx, tenant, case_id, "looks like family", alice);
    await decideCase(ctx, tenant, case_id, { decision: "approve", reason: "family" }, alice);
    await decideCase(ctx, tenant, case_id, { decision: "approve", reason: "agreed" }, bob);
    const keys = new LogKeyStore({ host: "audit.test", secret: "audit-secret" });
    await sequenceAll(ctx, tenant, keys);
    const vkey = (await logVkey(db, tenant))!;
    const trail = await caseTrail(ctx, { tenant_id: tenant, party_id: null }, case_id);
    expect(trail.map((entry) => entry.action.action)).toEqual([
      "open",
      "hit",
      "claim",
      "comment",
      "decide",
      "second_approval",
    ]);
    for (const entry of trail) {
      expect(entry.bundle).not.toBeNull();
      await verifyBundle(entry.bundle, [vkey]);
      expect(entry.bundle!.record).toEqual(entry.action);
    }
    const hit = trail[1]!.action;
    expect(hit.detail).toMatchObject({ rule_id: "self_referral", order_id: self_referral_order.id });
    expect(hit.inputs_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(hit.config_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(trail[5]!.action).toMatchObject({
      person: "user:bob",
      detail: { first_person: "user:alice", step: 2 },
    });
    const report = await auditLog(db, tenant, { grace_ms: 3_600_000 });
    expect(report.findings).toEqual([]);
    expect(report.unchecked).toBe(0);
  });

  it("history rules follow the event stream, resume after a restart, and never record a hit twice", async () => {
    const { ctx, tenant } = await world(1_000_000, [
      { id: "order_velocity", params: { buyer_orders_max: 2 } },
      { id: "quick_refund" },
    ]);
    const orders = [1, 2, 3, 4].map((n) => ({ ...issue_order, id: `VEL-${n}` }));
    for (const order of orders) await bookOrders(ctx, tenant, [order]);
    await refundOrder(ctx, tenant, "VEL-1", { refund_id: "rf-1", amount_minor: 200_000 }, "refund");
    while ((await sequenceEventsOnce(ctx)) > 0);
    // Two events, then a "crash": a fresh round starts from the durable cursor.
    expect(await runAuditRound(ctx, tenant, 2)).toBe(2);
    const hits = async () =>
      (
        await db.query<{ rule_id: string; order_id: string }>(
          "SELECT rule_id, order_id FROM audit_hits WHERE tenant_id = $1 ORDER BY rule_id, order_id",
          [tenant],
        )
      ).map((row) => `${row.rule_id}:${row.order_id}`);
    expect(await hits()).toEqual([]);
    while ((await runAuditRound(ctx, tenant)) > 0);
    const expected = ["order_velocity:VEL-3", "order_velocity:VEL-4", "quick_refund:VEL-1"];
    expect(await hits()).toEqual(expected);
    // At least once: the whole stream delivered again adds nothing.
    await db.query("UPDATE audit_cursors SET seq = 0 WHERE tenant_id = $1", [tenant]);
    while ((await runAuditRound(ctx, tenant)) > 0);
    expect(await hits()).toEqual(expected);
    const [cases] = await db.query<{ count: bigint }>(
      "SELECT count(*)::int8 AS count FROM audit_cases WHERE tenant_id = $1",
      [tenant],
    );
    expect(cases!.count).toBe(3n);
  });
});
