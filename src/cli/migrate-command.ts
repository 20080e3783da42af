import { parseArgs } from "node:util";
import { loadMigrations } from "../store/migrate.ts";
import { embeddedDataDir, openDatabase } from "../store/open.ts";

// `clearsplit migrate`: the schema brought up to date and nothing else, so an
// upgrade can apply its migrations before the servers switch (docs/deploy.md,
// "Upgrades"). Servers migrate at start too, under the same advisory lock, so
// running this beside them is safe.

export const usage = `usage: clearsplit migrate

Applies the schema migrations the database has not had yet, each in its own
transaction, then exits. The database is DATABASE_URL, or the embedded one in
CLEARSPLIT_DATA_DIR (default ./.clearsplit). Safe to run twice or beside
running servers: they take the same lock.
`;

export async function run(argv: string[]): Promise<number> {
  try {
    const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
    if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}`);
  } catch (error) {
    process.stderr.write(
      `clearsplit migrate: ${error instanceof Error ? error.message : String(error)}\n${usage}`,
    );
    return 2;
  }
  const where = process.env.DATABASE_URL
    ? "PostgreSQL (DATABASE_URL)"
    : `the embedded database in ${embeddedDataDir()}`;
  let applied: readonly number[] = [];
  try {
    const db = await openDatabase({ connections_max: 1, on_migrated: (versions) => (applied = versions) });
    await db.close();
  } catch (error) {
    process.stderr.write(
      `clearsplit migrate: ${where}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  const latest = loadMigrations().at(-1)?.version ?? 0;
  process.stdout.write(
    applied.length === 0
      ? `clearsplit migrate: ${where} is current (schema ${latest})\n`
      : `clearsplit migrate: ${where}: applied ${applied.length} (${applied[0]}–${applied.at(-1)}), schema ${latest}\n`,
  );
  return 0;
}
