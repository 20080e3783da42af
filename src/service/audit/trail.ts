import type { ReadScope } from "../../core/auth/scope.ts";
import { isDomainError } from "../../core/errors.ts";
import { trail_actions_max } from "../../core/limits.ts";
import type { AuditActionRecord } from "../../core/log/records.ts";
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

export async function caseTrail(
  ctx: ServiceContext,
  scope: ReadScope,
  case_id: string,
): Promise<TrailEntry[]> {
  await getCase(ctx.db, scope, case_id); // Unknown, or another party's: case_not_found.
  const actions = await selectCaseActions(ctx.db, scope.tenant_id, case_id, trail_actions_max);
  const entries: TrailEntry[] = [];
  for (const { record } of actions) {
    let bundle: ProofBundle | null = null;
    try {
      bundle = await proofBundle(ctx, scope.tenant_id, record.id, { party_id: scope.party_id });
    } catch (error) {
      if (!isDomainError(error) || error.code !== "record_not_sequenced") throw error;
    }
    entries.push({ action: record, bundle });
  }
  return entries;
}
