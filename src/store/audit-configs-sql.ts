import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";

// The one home of the `audit_configs` table's queries (decisions §29).

export interface AuditConfigRow {
  id: string;
  name: string;
  status: "draft" | "published";
  hash: string;
  body: unknown;
  created_at: Date;
  created_by: string;
  published_at: Date | null;
  published_by: string | null;
}

const config_columns =
  "id::text AS id, name, status, hash, body, created_at, created_by, published_at, published_by";

function configOfRow(row: Record<string, unknown>): AuditConfigRow {
  const body = row.body;
  return { ...(row as unknown as AuditConfigRow), body: typeof body === "string" ? JSON.parse(body) : body };
}

export async function insertAuditConfigDraft(
  tx: Queryable,
  tenant_id: string,
  draft: { id: string; name: string; body: unknown; hash: string; created_by: string },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO audit_configs (tenant_id, id, name, status, body, hash, created_at, created_by)
     VALUES ($1, $2, $3, 'draft', $4::text::jsonb, $5, $6, $7)`,
    [tenant_id, draft.id, draft.name, JSON.stringify(draft.body), draft.hash, now, draft.created_by],
  );
}

export async function markAuditConfigPublished(
  tx: Queryable,
  tenant_id: string,
  id: string,
  published_by: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE audit_configs SET status = 'published', published_at = $3, published_by = $4
      WHERE tenant_id = $1 AND id = $2::uuid`,
    [tenant_id, id, now, published_by],
  );
}

/** The configuration with this id (a uuid); `lock` holds it for the transaction (FOR UPDATE). */
export async function selectAuditConfig(
  tx: Queryable,
  tenant_id: string,
  id: string,
  lock = false,
): Promise<AuditConfigRow | undefined> {
  const [row] = await tx.query(
    `SELECT ${config_columns} FROM audit_configs WHERE tenant_id = $1 AND id = $2::uuid${lock ? " FOR UPDATE" : ""}`,
    [tenant_id, id],
  );
  return row === undefined ? undefined : configOfRow(row);
}

/** Configurations newest first, those before the cursor's (created_at, id); `limit` rows. */
export async function selectAuditConfigs(
  db: Queryable,
  tenant_id: string,
  filter: { before: readonly [Date, string] | null; limit: number },
): Promise<AuditConfigRow[]> {
  assert(filter.limit >= 1, "a page reads at least one row");
  const rows = await db.query(
    `SELECT ${config_columns} FROM audit_configs
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [tenant_id, filter.before?.[0] ?? null, filter.before?.[1] ?? null, filter.limit],
  );
  return rows.map(configOfRow);
}

/** The newest published configuration's hash and body: the one in force. */
/**
 * The published configuration in force. Its body is left out (null) when its
 * hash is one of `known_hashes`: the caller has it parsed already, and the
 * body is most of what this read would otherwise carry on every booking.
 */
export async function selectAuditConfigInForce(
  tx: Queryable,
  tenant_id: string,
  known_hashes: readonly string[] = [],
): Promise<{ hash: string; body: unknown } | undefined> {
  const [row] = await tx.query<{ hash: string; body: unknown }>(
    `SELECT hash, CASE WHEN hash = ANY($2::text[]) THEN NULL ELSE body END AS body
       FROM audit_configs WHERE tenant_id = $1 AND status = 'published'
      ORDER BY published_at DESC, id DESC LIMIT 1`,
    [tenant_id, known_hashes],
  );
  return row;
}
