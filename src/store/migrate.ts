import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert } from "../core/assert.ts";
import { citusInstalled, distributeTables } from "./citus-sql.ts";
import type { Database } from "./database.ts";

const migrations_dir = join(dirname(fileURLToPath(import.meta.url)), "migrations");
// Any fixed key works; it only has to be the same for every ClearSplit process.
export const migration_lock_key = 7_001_337;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = migrations_dir): Migration[] {
  const files = readdirSync(dir).filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file));
  const migrations = files.sort().map((file) => ({
    version: Number(file.slice(0, 3)),
    name: file.slice(4, -4),
    sql: readFileSync(join(dir, file), "utf8"),
  }));
  // Numbers only increase; gaps are allowed, so that work on several branches
  // can take numbers from ranges of its own and merge without renumbering.
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    assert(migration.version >= 1, `migration ${migration.name} is numbered ${migration.version}`);
    assert(
      previous === undefined || migration.version > previous.version,
      `migrations ${previous?.name} and ${migration.name} share the number ${migration.version}`,
    );
  });
  return migrations;
}

/**
 * Applies the migrations not yet recorded, each in its own transaction. Two
 * processes starting at once serialise on an advisory lock, so running it
 * twice, or concurrently, is safe.
 */
export async function migrate(db: Database, migrations = loadMigrations()): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const applied: number[] = [];
  // On Citus (the extension installed: issue 20) new tables are sharded by
  // tenant_id once the migrations ran; plain PostgreSQL and PGlite skip it.
  const citus = db.backend === "postgres" && (await citusInstalled(db));
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [migration_lock_key]);
      // A later migration's trigger on a sharded table: safe, see distributeTables.
      if (citus) await tx.query("SET LOCAL citus.enable_unsafe_triggers = on");
      const rows = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version]);
      if (rows.length > 0) return false;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  if (citus) {
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [migration_lock_key]);
      await distributeTables(tx);
    });
  }
  return applied;
}

/**
 * Splits a migration into statements so each runs through the extended
 * protocol inside the transaction. Dollar-quoted bodies ($$ … $$) are kept whole.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  let in_dollar = false;
  for (const line of sql.split("\n")) {
    const trimmed = line.trim();
    if (!in_dollar && (trimmed.startsWith("--") || trimmed === "")) continue;
    current += `${line}\n`;
    const dollar_count = line.split("$$").length - 1;
    if (dollar_count % 2 === 1) in_dollar = !in_dollar;
    if (!in_dollar && trimmed.endsWith(";")) {
      statements.push(current.trim());
      current = "";
    }
  }
  assert(!in_dollar, "migration has an unterminated $$ block");
  if (current.trim() !== "") statements.push(current.trim());
  return statements;
}

/** The schema's version (the highest migration applied, 0 before any) and whether a migration holds the lock now. */
export async function schemaState(db: Database): Promise<{ version: number; migrating: boolean }> {
  const [row] = await db.query<{ version: number | null; migrating: boolean }>(
    `SELECT (SELECT max(version) FROM schema_migrations) AS version,
            EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                     WHERE d.datname = current_database() AND l.locktype = 'advisory'
                       AND l.objid = $1 AND l.granted) AS migrating`,
    [migration_lock_key],
  );
  return { version: Number(row?.version ?? 0), migrating: row?.migrating === true };
}
