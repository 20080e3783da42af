import type { Queryable } from "./database.ts";

/**
 * Whether the server vacuums on its own: the autovacuum launcher runs only with both
 * `autovacuum` and `track_counts` on (it decides from the statistics `track_counts` keeps).
 */
export async function selectAutovacuumEnabled(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ enabled: boolean }>(
    "SELECT current_setting('autovacuum')::bool AND current_setting('track_counts')::bool AS enabled",
  );
  return row?.enabled === true;
}
