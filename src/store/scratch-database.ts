import postgres from "postgres";
import { assert } from "../core/assert.ts";

// A database of its own, made on a PostgreSQL server and dropped after: what the
// bench, the simulation and the tests that start servers or kill them use, so
// they never touch a database someone else is using. On a Citus coordinator the
// new database is made on every node and joined to the same workers (issue 20),
// and the first migration then shards it.

export interface ScratchDatabase {
  /** The new database's name: the prefix, a time stamp and the process id. */
  name: string;
  /** Its URL on the same server, with the admin URL's credentials. */
  url: string;
  /** Drops it, closing any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Lower-case letters and underscores, so the name needs no quoting. */
const name_prefix_pattern = /^[a-z_]{1,32}$/;

export async function createScratchDatabase(
  admin_url: string,
  name_prefix: string,
): Promise<ScratchDatabase> {
  assert(
    name_prefix_pattern.test(name_prefix),
    "a database name prefix is lower-case letters and underscores",
  );
  const name = `${name_prefix}_${Date.now().toString(36)}_${process.pid}_${scratch_count++}`;
  const admin = postgres(admin_url, { max: 1, onnotice: () => {} });
  let workers: CitusWorker[] = [];
  try {
    workers = await citusWorkers(admin);
    if (workers.length > 0) await admin.unsafe("SET citus.enable_create_database_propagation = on");
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(admin_url);
  url.pathname = `/${name}`;
  if (workers.length > 0) await joinCitusCluster(url, workers);
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const dropper = postgres(admin_url, { max: 1, onnotice: () => {} });
      try {
        if (workers.length > 0) await dropper.unsafe("SET citus.enable_create_database_propagation = on");
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

/** Two scratch databases made by one process in the same millisecond still differ. */
let scratch_count = 0;

interface CitusWorker {
  nodename: string;
  nodeport: number;
}

/** The workers of a Citus coordinator's database (none when it is not one). */
async function citusWorkers(admin: postgres.Sql): Promise<CitusWorker[]> {
  const [probe] = await admin`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`;
  if (probe?.citus !== true) return [];
  return admin<CitusWorker[]>`
    SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid`;
}

/**
 * Makes the new database a Citus cluster like the one it was made beside: the
 * extension on every node, and the same workers added. Then migrate shards it.
 */
async function joinCitusCluster(url: URL, workers: readonly CitusWorker[]): Promise<void> {
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
