import { resolve } from "node:path";
import { lockDataDir } from "./data-dir-lock.ts";
import type { Database } from "./database.ts";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";

export interface OpenOptions {
  /** PostgreSQL URL; when absent, embedded PGlite is used. */
  database_url?: string | undefined;
  /** PGlite directory; `null` keeps the database in memory (tests). */
  data_dir?: string | null;
  connections_max?: number;
  /** PostgreSQL's application_name for this process's connections (default "clearsplit"). */
  application_name?: string;
  /** Told the migrations this open applied (none when the schema was current). */
  on_migrated?: (applied: readonly number[]) => void;
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const database_url = options.database_url ?? process.env.DATABASE_URL;
  let db: Database;
  if (database_url) {
    db = await openPostgres(database_url, {
      connections_max: options.connections_max ?? 10,
      ...(options.application_name === undefined ? {} : { application_name: options.application_name }),
    });
  } else {
    const data_dir =
      options.data_dir === null
        ? undefined
        : options.data_dir === undefined
          ? embeddedDataDir()
          : resolve(options.data_dir);
    // Loaded only when used: the PGlite module alone is about 40 MB of
    // resident memory, which a server on PostgreSQL should not carry.
    const { openPglite } = await import("./pglite.ts");
    // One process per directory (data-dir-lock.ts): taken before PGlite touches a file.
    const lock = data_dir === undefined ? null : lockDataDir(data_dir);
    try {
      db = withRelease(await openPglite(data_dir), () => lock?.release());
    } catch (error) {
      lock?.release();
      throw error;
    }
  }
  const applied = await migrate(db);
  options.on_migrated?.(applied);
  return db;
}

/** The embedded data directory a process would open: CLEARSPLIT_DATA_DIR, else ./.clearsplit. */
export function embeddedDataDir(): string {
  return resolve(process.env.CLEARSPLIT_DATA_DIR ?? ".clearsplit");
}

function withRelease(db: Database, release: () => void): Database {
  return {
    ...db,
    backend: db.backend,
    query: db.query,
    transaction: db.transaction,
    exec: db.exec,
    close: async () => {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
