import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert } from "../core/assert.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";
import { createScratchDatabase } from "../store/scratch-database.ts";
import type { Backend } from "./args.ts";

// The bench never touches an existing database: on PostgreSQL it creates a
// fresh one on DATABASE_URL's server and drops it afterwards; on PGlite it uses
// a temporary directory, as `npm start` uses ./.clearsplit.

export const connections_max = 40;

export interface BenchDatabase {
  db: Database;
  backend: Backend;
  /** The bench database's name (PostgreSQL) or directory (PGlite). */
  location: string;
  /** The bench database's URL (PostgreSQL only): another process can open it. */
  url?: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(
  backend: Backend,
  database_url: string | undefined,
  /** The new database's name (or directory's, with dashes) begins with this: the simulation's are `clearsplit_sim_…`. */
  name_prefix = "clearsplit_bench",
): Promise<BenchDatabase> {
  assert(/^[a-z_]{1,32}$/.test(name_prefix), "a database name prefix is lower-case letters and underscores");
  if (backend === "pglite") {
    const directory = await mkdtemp(join(tmpdir(), `${name_prefix.replaceAll("_", "-")}-`));
    const db = await openDatabase({ data_dir: directory });
    return {
      db,
      backend,
      location: directory,
      drop: async () => {
        await db.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  }
  if (!database_url) throw new Error("the pg backend needs DATABASE_URL");
  const scratch = await createScratchDatabase(database_url, name_prefix);
  const db = await openDatabase({ database_url: scratch.url, connections_max });
  return {
    db,
    backend,
    location: scratch.name,
    url: scratch.url,
    drop: async () => {
      await db.close();
      await scratch.drop();
    },
  };
}
