import { assert } from "../core/assert.ts";
import { DomainError } from "../core/errors.ts";
import type { Actor } from "../service/audit/actor.ts";
import { flagOrder } from "../service/audit/cases.ts";
import { decideCase } from "../service/audit/decide-case.ts";
import { bookOrders } from "../service/orders/book.ts";
import { completeOrders, refundOrder, releaseOrder } from "../service/orders/order-lifecycle.ts";
import { resolvePayoutResult } from "../service/settlement/payouts.ts";
import { type RunResult, runSettlement } from "../service/settlement/settlement-run.ts";
import type { Operation } from "./generator.ts";
import type { SimModel } from "./model.ts";
import { tick } from "./tick.ts";
import type { World } from "./world.ts";

// Applies one generated operation to the real services and records what they
// answered. A DomainError is a refusal, counted by its code (a refund larger
// than what is left, a case already closed); where the answer is certain (a
// replay, a conflict, an unknown order) anything else is a failure. Any other
// exception escapes: the run stops on it with its seed and step.

export const finance: Actor = { actor: "system:sim", person: null, role: "finance" };
const reviewers: readonly Actor[] = [
  { actor: "user:sim-reviewer-1", person: "user:sim-reviewer-1", role: "reviewer" },
  { actor: "user:sim-reviewer-2", person: "user:sim-reviewer-2", role: "reviewer" },
];

export class SimFailure extends Error {
  override name = "SimFailure";
}

export async function execute(world: World, operation: Operation): Promise<void> {
  const started_ms = performance.now();
  const outcome =
    world.statements === undefined
      ? await outcomeOf(world, operation)
      : await world.statements.within(operation.kind, () => outcomeOf(world, operation));
  world.model.count(operation.kind, outcome, performance.now() - started_ms);
}

async function outcomeOf(world: World, operation: Operation): Promise<string> {
  try {
    return await apply(world, operation);
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new SimFailure(message);
}

async function apply(world: World, operation: Operation): Promise<string> {
  const { ctx, tenant_id, model } = world;
  switch (operation.kind) {
    case "book":
      return book(world, operation.count, operation.paid_offset_ms);
    case "book_replay":
    case "book_conflict": {
      const order = model.pickOrder(operation.pick);
      if (order === undefined) return "no_order";
      const conflict = operation.kind === "book_conflict";
      const body = conflict
        ? { ...order.body, buyer_ref: `${String(order.body.buyer_ref)}-changed` }
        : order.body;
      const [result] = await bookOrders(ctx, tenant_id, [body]);
      const status = result!.status === "rejected" ? result!.error.code : result!.status;
      expect(
        status === (conflict ? "order_conflict" : "replayed"),
        `${operation.kind} of ${order.id}: ${status}`,
      );
      return status;
    }
    case "complete": {
      const order = model.pickOrder(operation.pick);
      if (order === undefined) return "no_order";
      const stated =
        operation.backdate_ms === null ? undefined : new Date(ctx.now().getTime() - operation.backdate_ms);
      await completeOrders(ctx, tenant_id, [order.id], stated);
      return "ok";
    }
    case "complete_unknown":
    case "refund_unknown":
      return unknownOrder(world, operation.kind, `SIM-UNSENT-${operation.number}`);
    case "refund":
    case "refund_full":
      return refund(world, operation);
    case "refund_replay": {
      const refund = model.refunds[Math.floor(operation.pick * model.refunds.length)];
      if (refund === undefined) return "no_refund";
      const kind = refund.chargeback ? "chargeback" : "refund";
      const result = await refundOrder(ctx, tenant_id, refund.order_id, refund.body, kind);
      expect(result.replayed, `replay of refund ${refund.body.refund_id} was booked again`);
      return "replayed";
    }
    case "release": {
      const order = model.pickOrder(operation.pick);
      if (order === undefined) return "no_order";
      await releaseOrder(ctx, tenant_id, order.id);
      return "ok";
    }
    case "tick":
      await tick(world);
      return "ok";
    case "clock_jump":
      world.clock.advance(operation.delta_ms);
      return operation.delta_ms < 0 ? "backward" : "forward";
    case "settle":
      recordRun(model, await runSettlement(ctx, tenant_id, { trigger: "api" }));
      return "ok";
    case "payout":
      return payout(world, operation.pick, operation.confirm);
    case "payout_replay":
      return payoutReplay(world, operation.pick, operation.same);
    case "audit_flag": {
      const order = model.pickOrder(operation.pick);
      if (order === undefined) return "no_order";
      await flagOrder(ctx, tenant_id, { order_id: order.id, reason: "simulated spot check" }, finance);
      return "ok";
    }
    case "audit_decide":
      return decide(world, operation);
  }
}

async function book(world: World, count: number, paid_offset_ms: number): Promise<string> {
  const paid_at = new Date(world.ctx.now().getTime() - paid_offset_ms).toISOString();
  const bodies: Record<string, unknown>[] = [];
  for (let index = 0; index < count; index++) {
    const next = world.orders.next();
    assert(next.done !== true, "the order stream is endless");
    bodies.push({ ...(next.value.body as Record<string, unknown>), paid_at });
  }
  const results = await bookOrders(world.ctx, world.tenant_id, bodies);
  for (const [index, result] of results.entries()) {
    const body = bodies[index]!;
    expect(result.status === "created", `new order ${String(body.id)}: ${result.status}`);
    world.model.addOrder({
      id: String(body.id),
      body,
      paid_minor: BigInt(body.paid_minor as number),
      refunded_minor: 0n,
      refunds: 0,
    });
  }
  return "ok";
}

async function unknownOrder(world: World, kind: string, order_id: string): Promise<string> {
  // The event for an order the mall never sent (or that has not arrived yet) changes nothing.
  try {
    if (kind === "complete_unknown") await completeOrders(world.ctx, world.tenant_id, [order_id]);
    else
      await refundOrder(
        world.ctx,
        world.tenant_id,
        order_id,
        { refund_id: `RF-${order_id}`, amount_minor: 1 },
        "refund",
      );
  } catch (error) {
    if (error instanceof DomainError && error.code === "order_not_found") return error.code;
    throw error;
  }
  throw new SimFailure(`${kind} for the never-sent order ${order_id} was accepted`);
}

async function refund(
  world: World,
  operation: Extract<Operation, { kind: "refund" | "refund_full" }>,
): Promise<string> {
  const order = world.model.pickOrder(operation.pick);
  if (order === undefined) return "no_order";
  const left_minor = order.paid_minor - order.refunded_minor;
  const share = operation.kind === "refund_full" ? 1 : operation.share;
  const amount_minor =
    operation.kind === "refund_full"
      ? left_minor
      : (left_minor * BigInt(Math.round(share * 1e6))) / 1_000_000n;
  const chargeback = operation.kind === "refund" && operation.chargeback;
  const number = order.refunds + 1;
  const body = {
    refund_id: `${chargeback ? "CB" : "RF"}-${order.id}-${number}`,
    // Nothing left, or a share that rounds to nothing: ask for one minor unit, which must be refused if nothing is left.
    amount_minor: Number(amount_minor > 0n ? amount_minor : 1n),
  };
  const result = await refundOrder(
    world.ctx,
    world.tenant_id,
    order.id,
    body,
    chargeback ? "chargeback" : "refund",
  );
  expect(!result.replayed, `new refund ${body.refund_id} answered as a replay`);
  expect(
    BigInt(body.amount_minor) <= left_minor,
    `refund ${body.refund_id} beyond what is left was accepted`,
  );
  order.refunds = number;
  world.model.addRefund({ order_id: order.id, body, chargeback }, BigInt(body.amount_minor));
  return "ok";
}

function recordRun(model: SimModel, run: RunResult): void {
  for (const item of run.paid) {
    if (item.state !== "in_transit") continue;
    model.addPayout({ id: item.payout_id, amount_minor: item.amount_minor, state: "in_transit" });
  }
}

async function payout(world: World, pick: number, confirm: boolean): Promise<string> {
  const index = Math.floor(pick * world.model.in_transit.length);
  const item = world.model.in_transit[index];
  if (item === undefined) return "no_payout";
  const row = await resolvePayoutResult(
    world.ctx,
    world.tenant_id,
    item.id,
    confirm ? { outcome: "confirm" } : { outcome: "fail", reason: "beneficiary account closed" },
  );
  const state = confirm ? "paid_out" : "failed";
  expect(row.state === state, `payout ${item.id} is ${row.state}, not ${state}`);
  world.model.resolvePayout(index, state);
  return state;
}

async function payoutReplay(world: World, pick: number, same: boolean): Promise<string> {
  const item = world.model.resolved[Math.floor(pick * world.model.resolved.length)];
  if (item === undefined) return "no_payout";
  const confirm = (item.state === "paid_out") === same;
  try {
    const row = await resolvePayoutResult(
      world.ctx,
      world.tenant_id,
      item.id,
      confirm ? { outcome: "confirm" } : { outcome: "fail", reason: "returned by the bank" },
    );
    expect(same && row.state === item.state, `result replay on payout ${item.id} left it ${row.state}`);
    return "replayed";
  } catch (error) {
    // The opposite result for a settled payout is a conflict, never a second movement of money.
    if (!same && error instanceof DomainError && error.code === "payout_state_invalid") return error.code;
    throw error;
  }
}

async function decide(
  world: World,
  operation: Extract<Operation, { kind: "audit_decide" }>,
): Promise<string> {
  const order = world.model.pickOrder(operation.pick);
  if (order === undefined) return "no_order";
  const [open] = await world.ctx.db.query<{ id: string }>(
    `SELECT id::text FROM audit_cases WHERE tenant_id = $1 AND order_id = $2
        AND state IN ('open', 'claimed', 'awaiting_second_approval') ORDER BY opened_at LIMIT 1`,
    [world.tenant_id, order.id],
  );
  if (open === undefined) return "no_case";
  const actor = reviewers[operation.second ? 1 : 0]!;
  const result = await decideCase(
    world.ctx,
    world.tenant_id,
    open.id,
    { decision: operation.decision, reason: "simulated review" },
    actor,
  );
  return `${operation.decision}:${result.case.state}`;
}
