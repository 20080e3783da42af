import { open_case_states } from "../../core/audit/four-eyes.ts";
import type { Queryable } from "../../store/database.ts";

// While a case on an order is open (open, claimed, awaiting its second
// approval, or with a rejected proposal), the order's funds may be neither
// released nor settled. Release and settlement use one of these two forms.

const open_states_sql = open_case_states.map((state) => `'${state}'`).join(", ");

/**
 * A SQL predicate, true when the order `alias`.id of tenant `alias`.tenant_id
 * is blocked by an open case: `WHERE NOT ${orderBlockedByCaseSql("o")}`.
 * One probe of the partial index audit_cases_blocking.
 */
export function orderBlockedByCaseSql(alias: string, order_id_column = "id"): string {
  return `EXISTS (SELECT 1 FROM audit_cases c WHERE c.tenant_id = ${alias}.tenant_id
    AND c.order_id = ${alias}.${order_id_column} AND c.state IN (${open_states_sql}))`;
}

/** Of these orders, the ids with an open case, each with its case ids (oldest first). */
export async function openedCaseOrderIds(
  tx: Queryable,
  tenant_id: string,
  order_ids: readonly string[],
): Promise<Map<string, string[]>> {
  if (order_ids.length === 0) return new Map();
  const rows = await tx.query<{ order_id: string; case_id: string }>(
    `SELECT order_id, id::text AS case_id FROM audit_cases
      WHERE tenant_id = $1 AND order_id = ANY($2::text[]) AND state IN (${open_states_sql})
      ORDER BY opened_at, id`,
    [tenant_id, order_ids],
  );
  const blocked = new Map<string, string[]>();
  for (const row of rows) blocked.set(row.order_id, [...(blocked.get(row.order_id) ?? []), row.case_id]);
  return blocked;
}
