import type { Queryable } from "./database.ts";

// The SQL `clearsplit backup` and `restore` need on PostgreSQL (decisions §29):
// the snapshot pg_dump dumps, and the checks and role a restore target needs.

/**
 * Makes `tx` a read-only repeatable-read transaction and exports its snapshot,
 * so that pg_dump (given the returned name) sees exactly what `tx` sees. The
 * first statement of the transaction must be this one.
 */
export async function exportReadSnapshot(tx: Queryable): Promise<string> {
  await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  const [row] = await tx.query<{ snapshot: string }>("SELECT pg_export_snapshot() AS snapshot");
  if (row === undefined) throw new Error("pg_export_snapshot() returned no row");
  return row.snapshot;
}

/**
 * Readies the PostgreSQL database at `url` for pg_restore: false, with nothing
 * changed, when it has a table already; otherwise creates the role row-level
 * security names (it is cluster-wide, so a new cluster may lack it) and is true.
 */
export async function prepareRestoreTarget(url: string): Promise<boolean> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    if (row!.n !== 0) return false;
    await sql.unsafe(
      "DO $$ BEGIN CREATE ROLE clearsplit_reader NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    );
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Forgets every settlement account's mark after a pg_restore (migration 092).
 * A mark is a transaction id of the cluster that wrote it; a restored cluster
 * counts its ids afresh, so its new postings could fall below an old mark and
 * never be taken. With no mark, each account's next run takes its whole
 * history again, which the open set's skips make harmless (settlement-open-sql.ts).
 */
export async function forgetSettlementMarks(db: Queryable): Promise<number> {
  const rows = await db.query("DELETE FROM settlement_account_marks RETURNING 1");
  return rows.length;
}
