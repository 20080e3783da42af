import type { ReadScope } from "../../core/auth/scope.ts";
import { isDomainError } from "../../core/errors.ts";
import { trail_actions_max } from "../../core/limits.ts";
import type { AuditActionRecord } from "../../core/log/records.ts";
import { decodeCursor, type Page, pageLimit, pageOf } from "../../core/page.ts";
import { selectCaseActions } from "../../store/audit-sql.ts";
import type { ProofBundle } from "../../verify/index.ts";
import type { ServiceContext } from "../context.ts";
import { proofBundle } from "../tlog/proofs.ts";
import { getCase } from "./cases.ts";

// A case's trail: every action on it, oldest first, each with the proof
// bundle that shows its record in the signed log (`clearsplit verify bundle`
// checks it offline). An action not yet in a checkpoint has `bundle: null`.

export interface TrailEntry {
  action: AuditActionRecord;
  /** Null while the record waits for the sequencer's next checkpoint (about a second). */
  bundle: ProofBundle | null;
}

/** The whole trail (up to trail_actions_max actions), as a case's view embeds it. */
export async function caseTrail(
  ctx: ServiceContext,
  scope: ReadScope,
  case_id: string,
): Promise<TrailEntry[]> {
  return (await caseTrailPage(ctx, scope, case_id)).items;
}

/** The trail oldest first, one cursor page (by default the whole trail, up to trail_actions_max). */
export async function caseTrailPage(
  ctx: ServiceContext,
  scope: ReadScope,
  case_id: string,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<TrailEntry>> {
  const limit = pageLimit(options.limit, trail_actions_max, trail_actions_max);
  const after =
    options.cursor === undefined ? null : decodeCursor("audit_trail", options.cursor, ["instant", "uuid"]);
  await getCase(ctx.db, scope, case_id); // Unknown, or another party's: case_not_found.
  const actions = await selectCaseActions(ctx.db, scope.tenant_id, case_id, limit + 1, after);
  const page = pageOf(actions, limit, "audit_trail", (action) => [action.created_at, action.id]);
  const entries: TrailEntry[] = [];
  for (const { record } of page.items) {
    let bundle: ProofBundle | null = null;
    try {
      bundle = await proofBundle(ctx, scope.tenant_id, record.id, { party_id: scope.party_id });
    } catch (error) {
      if (!isDomainError(error) || error.code !== "record_not_sequenced") throw error;
    }
    entries.push({ action: record, bundle });
  }
  return { items: entries, next_cursor: page.next_cursor };
}
