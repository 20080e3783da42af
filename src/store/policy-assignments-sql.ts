import type { Queryable } from "./database.ts";

// The one home of the `policy_assignments` table's queries.

export interface AssignmentRow {
  id: string;
  scope: "tenant" | "merchant" | "category";
  scope_value: string;
  policy_hash: string;
  effective_from: Date;
  created_at: Date;
}

export async function insertAssignment(tx: Queryable, tenant_id: string, row: AssignmentRow): Promise<void> {
  await tx.query(
    `INSERT INTO policy_assignments (tenant_id, id, scope, scope_value, policy_hash, effective_from, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [tenant_id, row.id, row.scope, row.scope_value, row.policy_hash, row.effective_from, row.created_at],
  );
}

/** Assignments in (effective_from, id) order after the cursor's key, `limit` rows. */
export function selectAssignments(
  tx: Queryable,
  tenant_id: string,
  filter: {
    scope: string | null;
    after: readonly [Date, string] | null;
    limit: number;
  },
): Promise<AssignmentRow[]> {
  return tx.query<AssignmentRow & Record<string, unknown>>(
    `SELECT id::text, scope, scope_value, policy_hash, effective_from, created_at FROM policy_assignments
      WHERE tenant_id = $1 AND ($2::text IS NULL OR scope = $2)
        AND ($3::timestamptz IS NULL OR (effective_from, id) > ($3::timestamptz, $4::uuid))
      ORDER BY effective_from, id LIMIT $5`,
    [tenant_id, filter.scope, filter.after?.[0] ?? null, filter.after?.[1] ?? null, filter.limit],
  );
}

/** The assignments that may apply to orders of these merchants and categories, newest in force first. */
export function selectApplicableAssignments(
  tx: Queryable,
  tenant_id: string,
  merchants: readonly string[],
  categories: readonly string[],
): Promise<Pick<AssignmentRow, "scope" | "scope_value" | "policy_hash" | "effective_from">[]> {
  return tx.query<
    Pick<AssignmentRow, "scope" | "scope_value" | "policy_hash" | "effective_from"> & Record<string, unknown>
  >(
    `SELECT scope, scope_value, policy_hash, effective_from FROM policy_assignments
      WHERE tenant_id = $1 AND (scope = 'tenant' OR (scope = 'merchant' AND scope_value = ANY($2::text[]))
                                OR (scope = 'category' AND scope_value = ANY($3::text[])))
      ORDER BY effective_from DESC, created_at DESC`,
    [tenant_id, merchants, categories],
  );
}
