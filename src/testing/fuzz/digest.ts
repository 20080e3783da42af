import { createHash } from "node:crypto";
import { coordinator_local_tables, reference_tables } from "../../store/citus-sql.ts";
import type { Queryable } from "../../store/database.ts";

// A digest of the whole database: every table's rows, hashed in a stable
// order. Two digests are equal only when no row was added, changed or removed.

/**
 * Rows that a refused request writes on purpose, left out of the digest: the
 * security audit of failed logins and credentials (security_events,
 * login_throttle), the stored outcome of a keyed request that reached the
 * domain (http_idempotency, Stripe's habit), and last-use stamps.
 */
export const digest_excluded_tables = new Set(["security_events", "login_throttle", "http_idempotency"]);
export const digest_excluded_columns: Record<string, string[]> = {
  api_keys: ["last_used_at"],
  sessions: ["last_seen_at"],
};

/**
 * A subquery per table. With `tenant_ids`, only those tenants' rows of every
 * table that has a tenant_id (all of ClearSplit's but `tenants` and
 * `schema_migrations`, which are read whole): what a request made with those
 * tenants' credentials can write, and nothing another test file writes
 * meanwhile into a shared database. Then each tenant's tables are read in a
 * statement of their own, which Citus routes whole to the tenant's shard, and
 * the tables Citus keeps on the coordinator or copies to every node in another.
 */
export async function databaseDigest(
  db: Queryable,
  tenant_ids?: readonly string[],
): Promise<{ digest: string; tables: Record<string, string> }> {
  // The column naming a row's tenant: tenant_id, or the tenants table's own id.
  const rows = await db.query<{ tablename: string; tenant_column: string | null }>(
    `SELECT t.tablename,
            (SELECT c.column_name::text FROM information_schema.columns c
              WHERE c.table_schema = 'public' AND c.table_name = t.tablename
                AND (c.column_name = 'tenant_id' OR (t.tablename = 'tenants' AND c.column_name = 'id'))) AS tenant_column
       FROM pg_tables t WHERE t.schemaname = 'public' ORDER BY t.tablename`,
  );
  const kept = rows.filter((row) => !digest_excluded_tables.has(row.tablename));
  const names = kept.map((row) => row.tablename);
  const tables: Record<string, string> = {};
  if (tenant_ids === undefined) Object.assign(tables, await digestOf(db, names, null));
  else {
    const on_coordinator = new Set<string>([...reference_tables, ...coordinator_local_tables]);
    const sharded = kept.filter((row) => row.tenant_column !== null && !on_coordinator.has(row.tablename));
    // Few and small: one statement each, so no statement mixes Citus's kinds of table.
    for (const row of kept.filter((each) => !sharded.includes(each))) {
      const filter = row.tenant_column === null ? null : { column: row.tenant_column, ids: [...tenant_ids] };
      Object.assign(tables, await digestOf(db, [row.tablename], filter));
    }
    for (const tenant_id of tenant_ids) {
      const digests = await digestOf(
        db,
        sharded.map((row) => row.tablename),
        { column: "tenant_id", ids: [tenant_id] },
      );
      for (const [name, digest] of Object.entries(digests))
        tables[name] = `${tables[name] ?? ""}${tenant_id}=${digest};`;
    }
  }
  const whole = createHash("sha256");
  for (const name of names) whole.update(`${name}=${tables[name]}\n`);
  return { digest: whole.digest("hex"), tables };
}

/** Each table's row count and sum of row hashes, of the given tenants' rows only when given, in one statement. */
async function digestOf(
  db: Queryable,
  names: readonly string[],
  tenants: { column: string; ids: string[] } | null,
): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  // Order-independent (a sum of row hashes with the row count), so no sort:
  // it runs after every fuzzed request.
  const parts = names.map((name) => {
    const excluded = digest_excluded_columns[name];
    const row_text =
      excluded === undefined ? "t::text" : `(to_jsonb(t)${excluded.map((c) => ` - '${c}'`).join("")})::text`;
    // One tenant as `= $1`, the form Citus routes to one shard.
    const where =
      tenants === null
        ? ""
        : tenants.ids.length === 1
          ? `WHERE t.${tenants.column} = $1`
          : `WHERE t.${tenants.column} = ANY($1::text[])`;
    return `(SELECT count(*) || ':' || coalesce(sum(('x' || substr(md5(${row_text}), 1, 15))::bit(60)::int8)::text, '0')
               FROM "${name}" t ${where}) AS "${name}"`;
  });
  const params = tenants === null ? [] : tenants.ids.length === 1 ? [tenants.ids[0]] : [tenants.ids];
  const [row] = await db.query<Record<string, string>>(`SELECT ${parts.join(",\n")}`, params);
  return Object.fromEntries(names.map((name) => [name, String(row?.[name])]));
}

export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}
