import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `disputes` table's queries (decisions §29). Run the
// list on a scoped handle (store/scoped.ts).

export interface DisputeListRow {
  id: string;
  case_id: string;
  party_id: string;
  order_id: string;
  record_id: string | null;
  reason: string;
  bundle_verified: boolean;
  created_at: Date;
  state: string;
}

/** Disputes newest first with their case's state, those before the cursor's (created_at, id); `limit` rows. */
export function selectDisputes(
  tx: Queryable,
  tenant_id: string,
  filter: { party_id: string | null; before: readonly [Date, string] | null; limit: number },
): Promise<DisputeListRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  return tx.query<DisputeListRow & Record<string, unknown>>(
    `SELECT d.id::text AS id, d.case_id::text AS case_id, d.party_id, d.order_id, d.record_id::text AS record_id,
            d.reason, d.bundle_verified, d.created_at, c.state
       FROM disputes d JOIN audit_cases c ON c.tenant_id = d.tenant_id AND c.id = d.case_id
      WHERE d.tenant_id = $1 AND ($2::text IS NULL OR d.party_id = $2)
        AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
      ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
    [tenant_id, filter.party_id, filter.before?.[0] ?? null, filter.before?.[1] ?? null, filter.limit],
  );
}

export async function insertDispute(
  tx: Queryable,
  tenant_id: string,
  dispute: {
    id: string;
    case_id: string;
    party_id: string;
    order_id: string;
    record_id: string | null;
    reason: string;
    bundle_json: string | null;
    bundle_verified: boolean;
    created_by: string;
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO disputes (tenant_id, id, case_id, party_id, order_id, record_id, reason, bundle, bundle_verified,
                           created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11)`,
    [
      tenant_id,
      dispute.id,
      dispute.case_id,
      dispute.party_id,
      dispute.order_id,
      dispute.record_id,
      dispute.reason,
      dispute.bundle_json,
      dispute.bundle_verified,
      now,
      dispute.created_by,
    ],
  );
}

/** The first dispute that opened a case, if any. */
export async function selectCaseDisputeId(
  tx: Queryable,
  tenant_id: string,
  case_id: string,
): Promise<string | undefined> {
  const [row] = await tx.query<{ id: string }>(
    "SELECT id::text AS id FROM disputes WHERE tenant_id = $1 AND case_id = $2 ORDER BY created_at LIMIT 1",
    [tenant_id, case_id],
  );
  return row?.id;
}
