import type { Queryable } from "../../store/database.ts";

// The two places settlement and reconciliation meet audit (issue 14). Each is
// one small function so that wiring audit in changes nothing else.

/**
 * Orders among `order_ids` whose funds an open audit case blocks: their
 * entries are left out of a payout until the case is decided.
 */
export async function ordersBlockedByAudit(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Set<string>> {
  // Audit (issue 14) has not landed: no table of cases exists, so no order is blocked.
  void tx;
  void tenant_id;
  void order_ids;
  return new Set();
}

export interface ReconciliationException {
  import_id: string;
  status: string;
  order_id: string | null;
  provider_reference: string | null;
  detail: string;
}

/** Opens an audit case for a reconciliation exception, in the caller's transaction. */
export async function raiseReconciliationException(
  tx: Queryable,
  tenant_id: string,
  exception: ReconciliationException,
  now: Date,
): Promise<void> {
  // Audit (issue 14) has not landed; the exception is still recorded as an
  // item of the import and as a `reconciliation.exception` event.
  void tx;
  void tenant_id;
  void exception;
  void now;
}
