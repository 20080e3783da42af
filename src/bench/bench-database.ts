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
  let workers: { nodename: string; nodeport: number }[] = [];
  try {
    workers = await citusWorkers(admin);
    // On a Citus coordinator the new database is made on every node (issue 20).
    if (workers.length > 0) await admin.unsafe("SET citus.enable_create_database_propagation = on");
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(database_url);
  url.pathname = `/${name}`;
  if (workers.length > 0) await joinCitusCluster(url, workers);
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
        if (workers.length > 0) await dropper.unsafe("SET citus.enable_create_database_propagation = on");
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

/** The workers of a Citus coordinator's database (none when it is not one). */
async function citusWorkers(admin: postgres.Sql): Promise<{ nodename: string; nodeport: number }[]> {
  const [probe] = await admin`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`;
  if (probe?.citus !== true) return [];
  return admin<{ nodename: string; nodeport: number }[]>`
    SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid`;
}

/**
 * Makes the new database a Citus cluster like the one it was made beside: the
 * extension on every node, and the same workers added. Then migrate shards it.
 */
async function joinCitusCluster(
  url: URL,
  workers: readonly { nodename: string; nodeport: number }[],
): Promise<void> {
  for (const worker of workers) {
    const on_worker = new URL(url);
    on_worker.hostname = worker.nodename;
    on_worker.port = String(worker.nodeport);
    const sql = postgres(on_worker.toString(), { max: 1, onnotice: () => {} });
    try {
      await sql`CREATE EXTENSION IF NOT EXISTS citus`;
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  const coordinator = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await coordinator`CREATE EXTENSION IF NOT EXISTS citus`;
    await coordinator`SELECT citus_set_coordinator_host(${url.hostname}, ${Number(url.port || 5432)})`;
    for (const worker of workers)
      await coordinator`SELECT citus_add_node(${worker.nodename}, ${worker.nodeport})`;
  } finally {
    await coordinator.end({ timeout: 5 });
  }
}
