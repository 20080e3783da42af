import type { Queryable } from "./database.ts";

// The one home of the `tenants` table's queries (decisions §29).

/** Every tenant's id, in id order: the background roles visit each. */
export async function selectTenantIds(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ id: string }>("SELECT id FROM tenants ORDER BY id");
  return rows.map((row) => row.id);
}

/** Which of these ids are tenants. */
export async function selectKnownTenantIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>("SELECT id FROM tenants WHERE id = ANY($1::text[])", [ids]);
  return rows.map((row) => row.id);
}

export async function tenantExists(db: Queryable, id: string): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM tenants WHERE id = $1", [id]);
  return rows.length > 0;
}

/** The tenant's display name; undefined when there is no such tenant. */
export async function selectTenantName(db: Queryable, id: string): Promise<string | undefined> {
  const [row] = await db.query<{ name: string }>("SELECT name FROM tenants WHERE id = $1", [id]);
  return row?.name;
}

/** Creates the tenant unless one with this id exists (its name is then kept). */
export async function insertTenant(db: Queryable, tenant: { id: string; name: string }): Promise<void> {
  await db.query("INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", [
    tenant.id,
    tenant.name,
  ]);
}
