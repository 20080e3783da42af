import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { assert } from "../core/assert.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";
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
  const name = `${name_prefix}_${Date.now().toString(36)}_${process.pid}`;
  const admin = postgres(database_url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(database_url);
  url.pathname = `/${name}`;
  const db = await openDatabase({ database_url: url.toString(), connections_max });
  return {
    db,
    backend,
    location: name,
    url: url.toString(),
    drop: async () => {
      await db.close();
      const dropper = postgres(database_url, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
