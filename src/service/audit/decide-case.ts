import { assert } from "../../core/assert.ts";
import {
  type CaseState,
  type Decision,
  decided_state,
  judge,
  type PendingDecision,
  type Verdict,
} from "../../core/audit/four-eyes.ts";
import { DomainError } from "../../core/errors.ts";
import {
  type CaseRow,
  selectCase,
  updateCaseDecided,
  updateCasePending,
  updateCaseRejected,
} from "../../store/audit-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { selectCaseDisputeId } from "../../store/disputes-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { type EventInput, enqueueEvents } from "../events/event-enqueue.ts";
import { lockReleases, unparkReleases } from "../orders/release.ts";
import type { Actor } from "./actor.ts";
import { applyAdjustment, applyReversal, parseAdjustment } from "./apply.ts";
import { type CaseView, caseNotFound, caseView, checkReason, trailBase } from "./cases.ts";
import { configInForce } from "./configs.ts";
import { caseEventPayload } from "./hits.ts";
import { writeActions } from "./trail-write.ts";

// THE path that decides a case. Every edge (HTTP, CLI, console) calls
// decideCase; nothing else changes a case to a decided state. It locks the
// case, asks the pure `judge` what the verdict does under the four-eyes
// threshold in force, applies it (ledger writes included) and records it, all
// in one transaction: a refusal changes nothing.

export const decide_roles: readonly string[] = ["platform_admin", "finance", "reviewer"];

export interface DecisionInput {
  decision: Verdict;
  reason: string;
  /** For `adjust`: the correcting entries. */
  entries?: unknown;
}

export interface DecisionResult {
  case: CaseView;
  /** The journal transaction a reversal or adjustment wrote, if any. */
  transaction_id: string | null;
}

export async function decideCase(
  ctx: ServiceContext,
  tenant_id: string,
  case_id: string,
  input: DecisionInput,
  actor: Actor,
): Promise<DecisionResult> {
  if (!decide_roles.includes(actor.role))
    throw new DomainError("forbidden", `the ${actor.role} role may not decide cases`);
  const verdict = input.decision;
  if (!["approve", "reverse", "adjust", "reject"].includes(verdict))
    throw new DomainError(
      "decision_invalid",
      "decision must be approve, reverse, adjust or reject",
      "decision",
    );
  checkReason(input.reason);
  return inTransaction(ctx.db, async (tx) => {
    await lockReleases(tx, tenant_id);
    const row = await selectCase(tx, tenant_id, case_id, true);
    if (row === undefined) throw caseNotFound(case_id);
    const config = await configInForce(tx, tenant_id);
    // Without a configuration every decision needs two people: the safe default.
    const threshold = BigInt(config?.config.four_eyes_minor ?? 0);
    const judgement = judge(row, actor, verdict, threshold);
    const now = ctx.now();
    if (judgement.outcome === "reject") return reject(tx, tenant_id, row, input, actor, now);
    const decision = verdict as Decision;
    // The proposal is checked when it is made, so that a second approval applies a valid one.
    const proposal_input =
      judgement.outcome === "apply" && judgement.second_of !== null
        ? judgement.second_of.input
        : decision === "adjust"
          ? parseAdjustment(input.entries, row)
          : null;
    if (judgement.outcome === "await_second") {
      const pending: PendingDecision = {
        decision,
        person: actor.person!,
        actor: actor.actor,
        reason: input.reason,
        input: proposal_input,
        at: now.toISOString(),
      };
      await updateCasePending(tx, tenant_id, case_id, pending, now);
      await writeActions(
        tx,
        tenant_id,
        [
          {
            ...trailBase(row, actor),
            action: "decide",
            reason: input.reason,
            detail: {
              decision,
              step: 1,
              of: 2,
              amount_minor: Number(row.amount_minor),
              threshold_minor: Number(threshold),
              input: proposal_input,
            },
          },
        ],
        now,
      );
      return { case: caseView({ ...row, state: "awaiting_second_approval", pending }), transaction_id: null };
    }
    const transaction_id = await apply(tx, tenant_id, row, decision, proposal_input, input.reason, now);
    const state: CaseState = decided_state[decision];
    await updateCaseDecided(tx, tenant_id, case_id, state, now);
    await unparkReleases(tx, tenant_id, case_id);
    const second = judgement.second_of;
    await writeActions(
      tx,
      tenant_id,
      [
        {
          ...trailBase(row, actor),
          action: second === null ? "decide" : "second_approval",
          reason: input.reason,
          detail: {
            decision,
            step: second === null ? 1 : 2,
            of: second === null ? 1 : 2,
            first_person: second?.person ?? null,
            amount_minor: Number(row.amount_minor),
            threshold_minor: Number(threshold),
            input: proposal_input,
            transaction_id,
          },
        },
      ],
      now,
    );
    const decided: CaseRow = { ...row, state, pending: null, decided_at: now };
    await decidedEvents(tx, tenant_id, decided, now);
    return { case: caseView(decided), transaction_id };
  });
}

async function reject(
  tx: Queryable,
  tenant_id: string,
  row: CaseRow,
  input: DecisionInput,
  actor: Actor,
  now: Date,
): Promise<DecisionResult> {
  assert(row.pending !== null, "a rejection needs a pending decision");
  await updateCaseRejected(tx, tenant_id, row.id, now);
  await writeActions(
    tx,
    tenant_id,
    [
      {
        ...trailBase(row, actor),
        action: "reject",
        reason: input.reason,
        detail: { rejected: row.pending.decision, first_person: row.pending.person },
      },
    ],
    now,
  );
  return { case: caseView({ ...row, state: "rejected", pending: null }), transaction_id: null };
}

async function apply(
  tx: Queryable,
  tenant_id: string,
  row: CaseRow,
  decision: Decision,
  input: unknown,
  reason: string,
  now: Date,
): Promise<string | null> {
  if (decision === "approve") return null;
  if (decision === "reverse") return applyReversal(tx, tenant_id, row, reason, now);
  return applyAdjustment(tx, tenant_id, row, input, reason, now);
}

/** The decision's events: to platform roles and the case's party (an audit result reaches the party it concerns). */
async function decidedEvents(tx: Queryable, tenant_id: string, row: CaseRow, now: Date): Promise<void> {
  const party_ids = row.party_id === null ? [] : [row.party_id];
  const events: EventInput[] = [{ type: "audit.case_decided", party_ids, payload: caseEventPayload(row) }];
  if (row.kind === "dispute" && row.party_id !== null) {
    const dispute_id = await selectCaseDisputeId(tx, tenant_id, row.id);
    events.push({
      type: "dispute.answered",
      party_ids: [row.party_id],
      payload: { dispute_id: dispute_id ?? null, case_id: row.id, state: row.state, order_id: row.order_id },
    });
  }
  await enqueueEvents(tx, tenant_id, events, now);
}
