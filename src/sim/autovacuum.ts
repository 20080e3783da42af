import type { Database } from "../store/database.ts";
import { selectAutovacuumEnabled } from "../store/maintenance-sql.ts";

// What PostgreSQL's autovacuum launcher would have done, done by the simulation itself.
//
// A production server runs autovacuum; this machine's PostgreSQL runs with `autovacuum = off`,
// and PGlite (one backend, no launcher) never vacuums on its own. Without it a long run measures
// a database no production server runs: every completion, refund and release leaves a dead
// version of its order row and a new entry in each of the table's indexes, and tables grown
// since the start are planned with no statistics. The server's CPU per operation then grows
// with the run (docs/reliability.md, 40,000 operations: 9.6 → 26.7 ms) for a reason that is
// the machine's setting, not the product. So at each invariant check the simulation looks at
// every table as the launcher does, with the server's own thresholds and scale factors, and
// VACUUMs or ANALYZEs the ones past them. `--vacuum off` turns this off to measure the bloat.

export type VacuumMode = "auto" | "off";

type TableStats = {
  schema: string;
  table: string;
  dead_rows: number;
  inserted_since_vacuum: number;
  modified_since_analyze: number;
  /** pg_class.reltuples: -1 (never vacuumed or analysed) reads as 0, as the launcher reads it. */
  rows_estimate: number;
};

type Thresholds = {
  vacuum_base: number;
  vacuum_scale: number;
  insert_base: number;
  insert_scale: number;
  analyze_base: number;
  analyze_scale: number;
};

export interface VacuumRound {
  vacuumed: string[];
  analyzed: string[];
}

/** True when nothing else will vacuum this database: PGlite, or a server with the launcher off. */
export async function needsOwnVacuum(db: Database): Promise<boolean> {
  if (db.backend === "pglite") return true;
  return !(await selectAutovacuumEnabled(db));
}

/** The tables past a threshold, and what each needs: a pure function of the statistics. */
export function tablesDue(stats: readonly TableStats[], limits: Thresholds): VacuumRound {
  const vacuumed: string[] = [];
  const analyzed: string[] = [];
  for (const table of stats) {
    const rows = Math.max(table.rows_estimate, 0);
    const name = `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
    const vacuum_due =
      table.dead_rows > limits.vacuum_base + limits.vacuum_scale * rows ||
      (limits.insert_base >= 0 &&
        table.inserted_since_vacuum > limits.insert_base + limits.insert_scale * rows);
    if (vacuum_due) vacuumed.push(name);
    // VACUUM (ANALYZE) does both; a table only past the analyze threshold is analysed alone.
    else if (table.modified_since_analyze > limits.analyze_base + limits.analyze_scale * rows)
      analyzed.push(name);
  }
  return { vacuumed, analyzed };
}

/** One launcher round: read the statistics and thresholds, then vacuum and analyse what is due. */
export async function vacuumRound(db: Database): Promise<VacuumRound> {
  const [limits] = await db.query<Thresholds>(
    `SELECT current_setting('autovacuum_vacuum_threshold')::float8 AS vacuum_base,
            current_setting('autovacuum_vacuum_scale_factor')::float8 AS vacuum_scale,
            current_setting('autovacuum_vacuum_insert_threshold')::float8 AS insert_base,
            current_setting('autovacuum_vacuum_insert_scale_factor')::float8 AS insert_scale,
            current_setting('autovacuum_analyze_threshold')::float8 AS analyze_base,
            current_setting('autovacuum_analyze_scale_factor')::float8 AS analyze_scale`,
  );
  const stats = await db.query<TableStats>(
    `SELECT s.schemaname AS schema, s.relname AS "table",
            s.n_dead_tup::float8 AS dead_rows,
            s.n_ins_since_vacuum::float8 AS inserted_since_vacuum,
            s.n_mod_since_analyze::float8 AS modified_since_analyze,
            c.reltuples::float8 AS rows_estimate
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE c.relkind = 'r'
      ORDER BY s.schemaname, s.relname`,
  );
  const due = tablesDue(stats, limits!);
  // VACUUM cannot run inside a transaction block: each is its own statement, as the launcher's are.
  for (const name of due.vacuumed) await db.query(`VACUUM (ANALYZE) ${name}`);
  for (const name of due.analyzed) await db.query(`ANALYZE ${name}`);
  return due;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
