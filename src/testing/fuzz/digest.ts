import { createHash } from "node:crypto";
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

/** One round trip: a subquery per table, so it can run after every fuzzed request. */
export async function databaseDigest(
  db: Queryable,
): Promise<{ digest: string; tables: Record<string, string> }> {
  const rows = await db.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const names = rows.map((row) => row.tablename).filter((name) => !digest_excluded_tables.has(name));
  // Order-independent (a sum of row hashes with the row count), so no sort:
  // it runs after every fuzzed request.
  const parts = names.map((name) => {
    const excluded = digest_excluded_columns[name];
    const row_text =
      excluded === undefined ? "t::text" : `(to_jsonb(t)${excluded.map((c) => ` - '${c}'`).join("")})::text`;
    return `(SELECT count(*) || ':' || coalesce(sum(('x' || substr(md5(${row_text}), 1, 15))::bit(60)::int8)::text, '0')
               FROM "${name}" t) AS "${name}"`;
  });
  const [row] = await db.query<Record<string, string>>(`SELECT ${parts.join(",\n")}`);
  const tables: Record<string, string> = {};
  const whole = createHash("sha256");
  for (const name of names) {
    tables[name] = String(row?.[name]);
    whole.update(`${name}=${tables[name]}\n`);
  }
  return { digest: whole.digest("hex"), tables };
}

export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}
