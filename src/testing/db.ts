import postgres from "postgres";
import { assert } from "../core/assert.ts";
import { newId } from "../core/ids.ts";
import type { ServiceContext } from "../service/context.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import type { Database, Queryable } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";

// Test support: the backend under test is chosen by DATABASE_URL, so the same
// suite runs once on embedded PGlite and once on a real PostgreSQL.

export async function openTestDatabase(): Promise<Database> {
  return openDatabase({ data_dir: null, connections_max: 12 });
}

/** A clock tests can move; starts at a fixed instant so figures are reproducible. */
export function testClock(start = "2026-11-25T10:00:00Z"): {
  now: () => Date;
  advance: (ms: number) => void;
  set: (iso: string) => void;
} {
  let current_ms = Date.parse(start);
  return {
    now: () => new Date(current_ms),
    advance: (ms) => {
      current_ms += ms;
    },
    set: (iso) => {
      current_ms = Date.parse(iso);
    },
  };
}

/** Each test gets its own tenant, so suites can share one PostgreSQL database. */
export async function newTestTenant(ctx: ServiceContext, prefix = "t"): Promise<string> {
  const id = `${prefix}-${newId().replaceAll("-", "").slice(-20)}`;
  await ensureTenant(ctx, { id, name: `test ${id}` });
  return id;
}

/**
 * Turns the append-only triggers off for the rest of `tx`, as an intruder with
 * the superuser's rights would: the tamper tests' way to change booked rows
 * behind ClearSplit's back. On Citus the rows live on the workers, which never
 * see a coordinator's `SET LOCAL` unless `citus.propagate_set_commands` is
 * 'local' (itself never propagated); then Citus sends this transaction's
 * `SET LOCAL`s to every worker it opens in it.
 */
export async function turnTriggersOffLocally(tx: Queryable): Promise<void> {
  if (tx.sharded === true) await tx.query("SET LOCAL citus.propagate_set_commands = 'local'");
  await tx.query("SET LOCAL session_replication_role = replica");
}

/**
 * Why the row-level security tests skip on Citus: there reads do not take the
 * reader role, since policies that look up other tables cannot run on a shard;
 * party isolation is the application's, guarded by the isolation matrix
 * (docs/decisions.md §35, docs/scale.md §3).
 */
export const rls_single_node =
  "row-level security is single-node: on Citus reads do not take the reader role (decisions §35)";

/**
 * A database of its own on the server of `admin_url`, for tests that start
 * `clearsplit serve` on PostgreSQL: serve opens every tenant's log key at
 * start, and in the suite's shared database the tenants other tests keyed
 * under their own secret or host stop it. A plain database even on a Citus
 * coordinator (single-node PostgreSQL there).
 */
export async function createThrowawayDatabase(
  admin_url: string,
  label: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  assert(/^[a-z_]+$/.test(label), "a throwaway database's label is lower-case letters");
  const name = `clearsplit_${label}_${Date.now().toString(36)}_${process.pid}`;
  const admin = postgres(admin_url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const parsed = new URL(admin_url);
  parsed.pathname = `/${name}`;
  return {
    url: parsed.toString(),
    drop: async () => {
      const dropper = postgres(admin_url, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

/**
 * A database of the calling file's own: on PostgreSQL a throwaway one on DATABASE_URL's server,
 * dropped by `close`; on PGlite a fresh one in memory, as openTestDatabase gives. For tests whose
 * rows would disturb the other files sharing the suite's database (records damaged on purpose,
 * orders without a journal, ANALYZE, the simulation's vacuum rounds).
 */
export async function openOwnTestDatabase(
  label: string,
): Promise<{ db: Database; close: () => Promise<void> }> {
  const admin_url = process.env.DATABASE_URL;
  if (!admin_url) {
    const db = await openTestDatabase();
    return { db, close: () => db.close() };
  }
  const created = await createThrowawayDatabase(admin_url, label);
  const db = await openDatabase({ database_url: created.url, connections_max: 4 });
  return {
    db,
    close: async () => {
      await db.close();
      await created.drop();
    },
  };
}
