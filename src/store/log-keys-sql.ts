import type { Queryable } from "./database.ts";

// The one home of the `log_keys` table's queries (decisions §29): each
// tenant's log signing key, its public vkey and the private key sealed
// (or null when keys are kept as files).

export interface LogKeyRow {
  tenant_id: string;
  origin: string;
  vkey: string;
  sealed_key: Uint8Array | null;
}

export async function selectLogKey(db: Queryable, tenant_id: string): Promise<LogKeyRow | undefined> {
  const [row] = await db.query<LogKeyRow & Record<string, unknown>>(
    "SELECT tenant_id, origin, vkey, sealed_key FROM log_keys WHERE tenant_id = $1",
    [tenant_id],
  );
  return row;
}

/** Stores a tenant's first key; when two processes race on first start, the first insert wins. */
export async function insertLogKeyIfNone(
  db: Queryable,
  tenant_id: string,
  key: { origin: string; vkey: string; sealed_key_hex: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO log_keys (tenant_id, origin, vkey, sealed_key, created_at)
     VALUES ($1, $2, $3, decode($4, 'hex'), now()) ON CONFLICT (tenant_id) DO NOTHING`,
    [tenant_id, key.origin, key.vkey, key.sealed_key_hex],
  );
}
