import { assert } from "../../core/assert.ts";
import { type CaseState, case_states, open_case_states } from "../../core/audit/four-eyes.ts";
import type { ReadScope } from "../../core/auth/scope.ts";
import { DomainError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import {
  case_hits_shown_max,
  cases_page_max,
  comment_length_max,
  reason_length_max,
} from "../../core/limits.ts";
import { decodeCursor, pageLimit, pageOf } from "../../core/page.ts";
import { minorToJson } from "../../core/split/allocation-json.ts";
import {
  type CaseRow,
  type HitRow,
  selectCase,
  selectCaseHits,
  selectCases,
  updateCaseClaim,
} from "../../store/audit-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { selectOrderAmountForUpdate } from "../../store/orders-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import type { Actor } from "./actor.ts";
import { raiseAuditHit } from "./hits.ts";
import { writeActions } from "./trail-write.ts";

// The review queue: list and filter, read one, claim, comment, flag by hand.
// Decisions have their own module (decide.ts), the only path that decides.

export interface CaseView {
  id: string;
  kind: CaseRow["kind"];
  state: CaseState;
  order_id: string | null;
  party_id: string | null;
  rule_ids: string[];
  amount_minor: number;
  currency: string;
  config_hash: string | null;
  opened_at: Date;
  opened_by: string;
  claimed_by: string | null;
  claimed_at: Date | null;
  /** The first of two decisions, while it awaits the second person. */
  pending: { decision: string; person: string; reason: string; at: string } | null;
  decided_at: Date | null;
}

export function caseView(row: CaseRow): CaseView {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    order_id: row.order_id,
    party_id: row.party_id,
    rule_ids: row.rule_ids,
    amount_minor: minorToJson(row.amount_minor),
    currency: row.currency,
    config_hash: row.config_hash,
    opened_at: row.opened_at,
    opened_by: row.opened_by,
    claimed_by: row.claimed_by,
    claimed_at: row.claimed_at,
    pending:
      row.pending === null
        ? null
        : {
            decision: row.pending.decision,
            person: row.pending.person,
            reason: row.pending.reason,
            at: row.pending.at,
          },
    decided_at: row.decided_at,
  };
}

export interface CaseFilters {
  state?: CaseState | "any_open" | undefined;
  rule_id?: string | undefined;
  party_id?: string | undefined;
  order_id?: string | undefined;
  amount_min_minor?: bigint | undefined;
  amount_max_minor?: bigint | undefined;
  opened_before?: Date | undefined;
  opened_after?: Date | undefined;
  kind?: CaseRow["kind"] | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Cases newest first, filtered, a page at a time (the cursor is opaque). */
export async function listCases(
  db: Queryable,
  tenant_id: string,
  filters: CaseFilters,
): Promise<{ items: CaseView[]; next_cursor: string | null }> {
  const limit = pageLimit(filters.limit, 50, cases_page_max);
  if (filters.state !== undefined && filters.state !== "any_open" && !case_states.includes(filters.state))
    throw new DomainError(
      "state_invalid",
      `state must be any_open or one of ${case_states.join(", ")}`,
      "state",
    );
  const after = filters.cursor === undefined ? null : auditCaseCursor(filters.cursor);
  const states =
    filters.state === undefined
      ? null
      : filters.state === "any_open"
        ? [...open_case_states]
        : [filters.state];
  const rows = await selectCases(db, tenant_id, {
    states,
    rule_id: filters.rule_id ?? null,
    party_id: filters.party_id ?? null,
    order_id: filters.order_id ?? null,
    amount_min_minor: filters.amount_min_minor ?? null,
    amount_max_minor: filters.amount_max_minor ?? null,
    opened_before: filters.opened_before ?? null,
    opened_after: filters.opened_after ?? null,
    kind: filters.kind ?? null,
    before: after,
    limit: limit + 1,
  });
  return pageOf(
    rows.map((row) => caseView(row)),
    limit,
    "audit_cases",
    (item) => [item.opened_at, item.id],
  );
}

function auditCaseCursor(cursor: string): { opened_at: Date; id: string } {
  const [opened_at, id] = decodeCursor("audit_cases", cursor, ["instant", "uuid"]);
  return { opened_at, id };
}

export type HitView = HitRow;

export interface CaseDetail extends CaseView {
  hits: HitView[];
}

/** A case with its hits. For a party-scoped scope, only its own disputes exist. */
export async function getCase(db: Queryable, scope: ReadScope, case_id: string): Promise<CaseDetail> {
  const row = await selectCase(db, scope.tenant_id, case_id);
  if (
    row === undefined ||
    (scope.party_id !== null && (row.kind !== "dispute" || row.party_id !== scope.party_id))
  )
    throw caseNotFound(case_id);
  const hits = await selectCaseHits(db, scope.tenant_id, case_id, case_hits_shown_max);
  return { ...caseView(row), hits: scope.party_id === null ? hits : [] };
}

export function caseNotFound(case_id: string): DomainError {
  return new DomainError("case_not_found", `no audit case ${JSON.stringify(case_id.slice(0, 80))}`, "id");
}

/** Claims an open case for the caller. Claiming one's own claim again changes nothing. */
export async function claimCase(
  ctx: ServiceContext,
  tenant_id: string,
  case_id: string,
  actor: Actor,
): Promise<CaseView> {
  return inTransaction(ctx.db, async (tx) => {
    const row = await selectCase(tx, tenant_id, case_id, true);
    if (row === undefined) throw caseNotFound(case_id);
    const me = actor.person ?? actor.actor;
    if (!open_case_states.includes(row.state))
      throw new DomainError("case_closed", `the case is ${row.state}: it cannot be claimed`, "id");
    if (row.claimed_by === me) return caseView(row);
    if (row.claimed_by !== null)
      throw new DomainError("case_claimed", `the case is claimed by ${row.claimed_by}`, "id");
    if (row.involved.includes(me))
      throw new DomainError(
        "case_self_review",
        "this case is about your own action: another reviewer must take it",
        "id",
      );
    const now = ctx.now();
    const state: CaseState = row.state === "open" ? "claimed" : row.state;
    await updateCaseClaim(tx, tenant_id, case_id, { claimed_by: me, state }, now);
    await writeActions(
      tx,
      tenant_id,
      [{ ...trailBase(row, actor), action: "claim", reason: "claimed" }],
      now,
    );
    return caseView({ ...row, claimed_by: me, claimed_at: now, state });
  });
}

export interface CommentView {
  id: string;
  case_id: string;
  actor: string;
  body: string;
  created_at: Date;
}

/** Adds a comment to a case's trail (a log record like every other action). */
export async function commentOnCase(
  ctx: ServiceContext,
  tenant_id: string,
  case_id: string,
  body: unknown,
  actor: Actor,
): Promise<CommentView> {
  if (typeof body !== "string" || body.trim().length === 0 || body.length > comment_length_max) {
    throw new DomainError(
      "audit_comment_invalid",
      `body must be 1 to ${comment_length_max} characters`,
      "body",
    );
  }
  return inTransaction(ctx.db, async (tx) => {
    const row = await selectCase(tx, tenant_id, case_id, true);
    if (row === undefined) throw caseNotFound(case_id);
    const now = ctx.now();
    const [written] = await writeActions(
      tx,
      tenant_id,
      [{ ...trailBase(row, actor), action: "comment", reason: body }],
      now,
    );
    return { id: written!.id, case_id, actor: actor.actor, body, created_at: now };
  });
}

/** Finance flags an order by hand: a `manual_flag` hit, which opens (or joins) the order's case. */
export async function flagOrder(
  ctx: ServiceContext,
  tenant_id: string,
  input: { order_id: string; reason: string },
  actor: Actor,
): Promise<CaseView> {
  checkReason(input.reason);
  return inTransaction(ctx.db, async (tx) => {
    const order = await selectOrderAmountForUpdate(tx, tenant_id, input.order_id);
    if (order === undefined)
      throw new DomainError("order_not_found", `no order ${JSON.stringify(input.order_id)}`, "order_id");
    const now = ctx.now();
    const raised = await raiseAuditHit(
      tx,
      tenant_id,
      {
        rule_id: "manual_flag",
        order_id: input.order_id,
        party_id: order.merchant_id,
        amount_minor: BigInt(order.paid_minor),
        currency: order.currency,
        reason: input.reason,
        inputs: { order_id: input.order_id, flagged_by: actor.actor },
        // Every manual flag is its own hit: two flags of one order by one person in the same millisecond
        // (the simulation's clock, a double submit) are two actions, and a time-based key would merge them.
        dedupe_key: `manual_flag:order:${input.order_id}:${newId()}`,
      },
      {
        config_hash: null,
        actor: actor.actor,
        person: actor.person,
        kind: "manual",
        involved: [actor.person ?? actor.actor],
      },
      now,
    );
    assert(raised !== null, "a manual flag is never a replay");
    return caseView((await selectCase(tx, tenant_id, raised.case_id))!);
  });
}

export function checkReason(reason: unknown): asserts reason is string {
  if (typeof reason !== "string" || reason.trim().length === 0 || reason.length > reason_length_max)
    throw new DomainError("reason_invalid", `reason must be 1 to ${reason_length_max} characters`, "reason");
}

export function trailBase(row: CaseRow, actor: Actor) {
  return {
    case_id: row.id,
    actor: actor.actor,
    person: actor.person,
    config_hash: row.config_hash,
    party_ids: row.kind === "dispute" && row.party_id !== null ? [row.party_id] : [],
  };
}
