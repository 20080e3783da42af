import { resolve } from "node:path";
import type { Database } from "./database.ts";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";

export interface OpenOptions {
  /** PostgreSQL URL; when absent, embedded PGlite is used. */
  database_url?: string | undefined;
  /** PGlite directory; `null` keeps the database in memory (tests). */
  data_dir?: string | null;
  connections_max?: number;
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const database_url = options.database_url ?? process.env.DATABASE_URL;
  let db: Database;
  if (database_url) {
    db = await openPostgres(database_url, { connections_max: options.connections_max ?? 10 });
  } else {
    const data_dir =
      options.data_dir === null
        ? undefined
        : resolve(options.data_dir ?? process.env.CLEARSPLIT_DATA_DIR ?? ".clearsplit");
    // Loaded only when used: the PGlite module alone is about 40 MB of
    // resident memory, which a server on PostgreSQL should not carry.
    const { openPglite } = await import("./pglite.ts");
    db = await openPglite(data_dir);
  }
  await migrate(db);
  return db;
}
