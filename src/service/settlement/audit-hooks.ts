import { openedCaseOrderIds, partyHoldingCases } from "../../store/audit-holds-sql.ts";
import type { Queryable } from "../../store/database.ts";
import { raiseAuditHit } from "../audit/hits.ts";

// The two places settlement and reconciliation meet audit (issue 14), each one
// small function over audit's own service.

/**
 * Orders among `order_ids` whose funds an open audit case blocks: their
 * entries are left out of a payout until the case is decided.
 */
export async function ordersBlockedByAudit(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Set<string>> {
  return new Set((await openedCaseOrderIds(tx, tenant_id, order_ids, { order_cases_only: true })).keys());
}

/**
 * The open party-level audit cases holding this party (a merchant whose refund
 * rate or debt a rule flagged): while there is one, the party is not paid out.
 */
export function partyHeldByAudit(tx: Queryable, tenant_id: string, party_id: string): Promise<string[]> {
  return partyHoldingCases(tx, tenant_id, party_id);
}

export interface ReconciliationException {
  import_id: string;
  seq: number;
  status: string;
  order_id: string;
  provider_reference: string | null;
  amount_minor: bigint;
  currency: string;
  detail: string;
}

/**
 * Opens (or joins) an audit case on the order for a reconciliation exception,
 * in the caller's transaction. Keyed by import and item, so a replayed import
 * raises nothing twice.
 */
export async function raiseReconciliationException(
  tx: Queryable,
  tenant_id: string,
  exception: ReconciliationException,
  now: Date,
): Promise<void> {
  await raiseAuditHit(
    tx,
    tenant_id,
    {
      rule_id: "reconciliation_mismatch",
      order_id: exception.order_id,
      party_id: null,
      amount_minor: exception.amount_minor,
      currency: exception.currency,
      reason: `reconciliation ${exception.status}: ${exception.detail}`,
      inputs: {
        import_id: exception.import_id,
        item_seq: exception.seq,
        status: exception.status,
        provider_reference: exception.provider_reference,
      },
      dedupe_key: `reconciliation:${exception.import_id}:${exception.seq}`,
    },
    { config_hash: null, actor: "system:settlement" },
    now,
  );
}
