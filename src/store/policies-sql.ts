import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `policies` table's queries (decisions §29).

export interface PolicyRow {
  id: string;
  name: string;
  status: "draft" | "published";
  hash: string | null;
  return_window_ms: number;
  body: unknown;
  created_at: Date;
  published_at: Date | null;
}

const policy_columns = "id::text, name, status, hash, return_window_ms, body, created_at, published_at";

function policyOf(row: PolicyRow): PolicyRow {
  return { ...row, return_window_ms: Number(row.return_window_ms) };
}

export async function insertPolicyDraft(
  db: Queryable,
  tenant_id: string,
  draft: { id: string; name: string; body: unknown; return_window_ms: number },
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO policies (tenant_id, id, name, status, body, return_window_ms, created_at)
     VALUES ($1, $2, $3, 'draft', $4::text::jsonb, $5, $6)`,
    [tenant_id, draft.id, draft.name, JSON.stringify(draft.body), draft.return_window_ms, now],
  );
}

/** The policy with this id; `lock` holds it for the transaction (FOR UPDATE). */
export async function selectPolicyById(
  db: Queryable,
  tenant_id: string,
  id: string,
  lock = false,
): Promise<PolicyRow | undefined> {
  const [row] = await db.query<PolicyRow & Record<string, unknown>>(
    `SELECT ${policy_columns} FROM policies WHERE tenant_id = $1 AND id = $2::uuid${lock ? " FOR UPDATE" : ""}`,
    [tenant_id, id],
  );
  return row === undefined ? undefined : policyOf(row);
}

export async function selectPolicyByHash(
  db: Queryable,
  tenant_id: string,
  hash: string,
): Promise<PolicyRow | undefined> {
  const [row] = await db.query<PolicyRow & Record<string, unknown>>(
    `SELECT ${policy_columns} FROM policies WHERE tenant_id = $1 AND hash = $2`,
    [tenant_id, hash],
  );
  return row === undefined ? undefined : policyOf(row);
}

/** Policies newest first, those before the cursor's (created_at, id); `limit` rows. */
export async function selectPolicies(
  db: Queryable,
  tenant_id: string,
  filter: { before: readonly [Date, string] | null; limit: number },
): Promise<PolicyRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  const rows = await db.query<PolicyRow & Record<string, unknown>>(
    `SELECT ${policy_columns} FROM policies
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [tenant_id, filter.before?.[0] ?? null, filter.before?.[1] ?? null, filter.limit],
  );
  return rows.map(policyOf);
}

export async function markPolicyPublished(
  tx: Queryable,
  tenant_id: string,
  id: string,
  hash: string,
  now: Date,
): Promise<void> {
  await tx.query(
    "UPDATE policies SET status = 'published', hash = $3, published_at = $4 WHERE tenant_id = $1 AND id = $2",
    [tenant_id, id, hash, now],
  );
}

/** The policies with these hashes: their bodies and return windows (a hash not stored is left out). */
export function selectPoliciesByHash(
  db: Queryable,
  tenant_id: string,
  hashes: readonly string[],
): Promise<{ hash: string; body: unknown; return_window_ms: bigint }[]> {
  return db.query<{ hash: string; body: unknown; return_window_ms: bigint }>(
    "SELECT hash, body, return_window_ms FROM policies WHERE tenant_id = $1 AND hash = ANY($2::text[])",
    [tenant_id, hashes],
  );
}

/** The policies with these ids, as their log records need them. */
export function selectPolicyRecordRows(
  tx: Queryable,
  tenant_id: string,
  ids: readonly string[],
): Promise<{ id: string; name: string; hash: string | null; published_at: Date | null; body: unknown }[]> {
  return tx.query<{
    id: string;
    name: string;
    hash: string | null;
    published_at: Date | null;
    body: unknown;
  }>(
    `SELECT id::text, name, hash, published_at, body FROM policies
      WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenant_id, ids],
  );
}
