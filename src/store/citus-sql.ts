import { assert } from "../core/assert.ts";
import { citus_tenant_probes_in_flight_max } from "../core/limits.ts";
import type { Queryable } from "./database.ts";
import { selectTenantIds } from "./tenants-sql.ts";

// How ClearSplit's tables are laid out on Citus (issue 20, docs/scale.md §3).
// Every table is sharded by `tenant_id`, all in one co-location group, so a
// tenant's rows of every table live in one shard group on one worker and any
// statement that filters by one tenant runs there whole. The exceptions are
// listed here by name; src/store/schema-invariants.test.ts holds the schema
// to this plan on every backend, and distributeTables applies it on Citus.

/** Copied to every node: small, read by every tenant, keyed by tenant id itself. */
export const reference_tables: readonly string[] = ["tenants"];

/**
 * Kept on the coordinator only, never sharded. Credentials are looked up by a
 * hash the client presents, before the tenant is known, so a key that leads
 * with tenant_id could not be found without asking every shard; the lookups
 * read these tables alone (no join with a sharded table), so the coordinator
 * answers them locally. login_throttle counts failures per subject across
 * tenants; schema_migrations is the migrator's own.
 */
export const coordinator_local_tables: readonly string[] = [
  "schema_migrations",
  "login_throttle",
  "api_keys",
  "sessions",
];

/**
 * Foreign keys from a coordinator-local table to a sharded one, which Citus
 * cannot keep (the referenced row lives on a worker). On single-node
 * PostgreSQL they stay; on Citus distributeTables drops them. The services
 * that issue keys and sessions look the party or user up first, and parties
 * and users are never deleted (they are deactivated or disabled).
 */
export const foreign_keys_dropped_on_citus: readonly { table: string; columns: string }[] = [
  { table: "api_keys", columns: "tenant_id, party_id" },
  { table: "sessions", columns: "tenant_id, user_id" },
];

/** The table every sharded table is co-located with (it references only tenants and itself). */
export const colocation_anchor = "parties";
export const distribution_column = "tenant_id";

/** Whether the Citus extension is installed in this database. */
export async function citusInstalled(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ installed: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS installed",
  );
  return row?.installed === true;
}

interface TableInfo {
  name: string;
  /** Tables it references by foreign key (other than itself). */
  references: string[];
  citus_kind: "distributed" | "reference" | "local";
  has_tenant: boolean;
}

async function publicTables(tx: Queryable): Promise<TableInfo[]> {
  const rows = await tx.query<{
    name: string;
    references: string[];
    partmethod: string | null;
    has_tenant: boolean;
  }>(
    `SELECT c.relname AS name,
            coalesce(array(SELECT DISTINCT f.confrelid::regclass::text FROM pg_constraint f
                            WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid), '{}') AS references,
            (SELECT p.partmethod::text || p.repmodel::text FROM pg_dist_partition p WHERE p.logicalrelid = c.oid) AS partmethod,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                       AND NOT a.attisdropped) AS has_tenant
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname`,
  );
  return rows.map((row) => ({
    name: row.name,
    references: row.references,
    // 'h…' hash-distributed, 'nt' a reference table; 'ns' is a local table
    // Citus took into its metadata because it references one (still to shard).
    citus_kind: row.partmethod?.startsWith("h")
      ? "distributed"
      : row.partmethod === "nt"
        ? "reference"
        : "local",
    has_tenant: row.has_tenant,
  }));
}

/** Parents before children, so every foreign key points at a table already sharded. */
export function distributionOrder(tables: readonly { name: string; references: string[] }[]): string[] {
  const pending = new Map(tables.map((table) => [table.name, table.references]));
  const order: string[] = [];
  while (pending.size > 0) {
    const ready = [...pending.keys()].filter((name) =>
      (pending.get(name) ?? []).every((parent) => !pending.has(parent) || parent === name),
    );
    assert(ready.length > 0, `foreign keys form a cycle among ${[...pending.keys()].join(", ")}`);
    for (const name of ready.sort()) {
      order.push(name);
      pending.delete(name);
    }
  }
  return order;
}

/**
 * Shards every table the plan does not exempt, inside the migrator's
 * transaction: reference tables first, then the sharded ones parents first,
 * each co-located with the anchor. Idempotent: a table already in Citus's
 * metadata is left as it is, so each migrate run shards only what is new.
 * Returns the tables it changed.
 */
export async function distributeTables(tx: Queryable): Promise<string[]> {
  // ClearSplit's triggers only look at the row in hand (append-only guards and
  // the shard-side xid stamp), which is what makes them safe on shards.
  await tx.query("SET LOCAL citus.enable_unsafe_triggers = on");
  await tx.query("SET LOCAL citus.multi_shard_modify_mode = 'sequential'");
  const changed: string[] = [];
  for (const fk of foreign_keys_dropped_on_citus) await dropForeignKey(tx, fk.table, fk.columns);
  let tables = await publicTables(tx);
  const exempt = new Set([...reference_tables, ...coordinator_local_tables]);
  const to_shard = new Set(
    tables
      .filter((table) => !exempt.has(table.name) && table.citus_kind === "local" && table.has_tenant)
      .map((table) => table.name),
  );
  // Citus shards a table only when every table it references, and every one
  // referencing it, is of a kind it may point at; among tables still local
  // that holds for none. So their foreign keys are set aside, the tables
  // sharded, and the same keys added back (checked again as they are).
  const foreign_keys = await foreignKeysOf(tx, [...to_shard]);
  for (const fk of foreign_keys) await tx.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT ${fk.name}`);
  for (const name of reference_tables) {
    if (tables.find((table) => table.name === name)?.citus_kind !== "local") continue;
    await tx.query("SELECT create_reference_table($1)", [name]);
    changed.push(name);
  }
  tables = await publicTables(tx);
  // A table without tenant_id stays local: no ClearSplit table is one (the
  // schema invariants test), but a test's scratch table may be.
  const sharded = tables.filter((table) => to_shard.has(table.name));
  const anchored =
    (
      await tx.query<{ n: number }>(
        "SELECT count(*)::int4 AS n FROM pg_dist_partition WHERE logicalrelid = to_regclass($1) AND partmethod = 'h'",
        [colocation_anchor],
      )
    )[0]?.n === 1;
  const anchor_first = distributionOrder(sharded).sort((a, b) =>
    a === colocation_anchor ? -1 : b === colocation_anchor ? 1 : 0,
  );
  assert(
    anchored || anchor_first.length === 0 || anchor_first[0] === colocation_anchor,
    "the anchor is sharded first",
  );
  for (const name of anchor_first) {
    const colocate_with = name === colocation_anchor ? "default" : colocation_anchor;
    await tx.query("SELECT create_distributed_table($1, $2, colocate_with => $3)", [
      name,
      distribution_column,
      colocate_with,
    ]);
    changed.push(name);
  }
  for (const fk of foreign_keys)
    await tx.query(`ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.name} ${fk.definition}`);
  await stampShardXids(tx);
  return changed;
}

interface ForeignKey {
  table: string;
  name: string;
  definition: string;
}

/** Every foreign key from or to one of `tables`, with its definition to add it back. */
async function foreignKeysOf(tx: Queryable, tables: readonly string[]): Promise<ForeignKey[]> {
  if (tables.length === 0) return [];
  return tx.query<ForeignKey & Record<string, unknown>>(
    `SELECT DISTINCT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c
      WHERE c.contype = 'f'
        AND (c.conrelid::regclass::text = ANY($1::text[]) OR c.confrelid::regclass::text = ANY($1::text[]))
      ORDER BY 1, 2`,
    [tables],
  );
}

async function dropForeignKey(tx: Queryable, table: string, columns: string): Promise<void> {
  const rows = await tx.query<{ name: string }>(
    `SELECT con.conname AS name FROM pg_constraint con
      WHERE con.conrelid = to_regclass($1) AND con.contype = 'f'
        AND (SELECT string_agg(a.attname, ', ' ORDER BY k.ordinality)
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ordinality)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) = $2`,
    [table, columns],
  );
  for (const row of rows) await tx.query(`ALTER TABLE ${table} DROP CONSTRAINT ${row.name}`);
}

/**
 * The log and event sequencers order rows by the xid that wrote them and take
 * only rows below the snapshot horizon of the database they read. On Citus the
 * row's DEFAULT pg_current_xact_id() is evaluated by the coordinator, while
 * the horizon the sequencer's tenant-routed query sees is the worker's: a
 * trigger on the shard stamps the worker's own xid, so both are of one server.
 */
async function stampShardXids(tx: Queryable): Promise<void> {
  await tx.query(`CREATE OR REPLACE FUNCTION clearsplit_stamp_shard_xid() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN NEW.xid := pg_current_xact_id(); RETURN NEW; END $$`);
  for (const table of ["log_records", "events"]) {
    const [row] = await tx.query<{ present: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2) AS present",
      [table, `${table}_shard_xid`],
    );
    if (row?.present === true) continue;
    await tx.query(
      `CREATE TRIGGER ${table}_shard_xid BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION clearsplit_stamp_shard_xid()`,
    );
  }
}

/**
 * Citus: asks `probe` about every tenant, in tenant id order, with up to
 * `citus_tenant_probes_in_flight_max` probes in flight, and returns the
 * answers (those not undefined) of the first `answers_max` tenants that gave
 * one. The one-node forms of these rounds join every tenant with its rows in
 * one statement, which Citus refuses over the tenants reference table; each
 * probe names one tenant, so Citus routes it whole to that tenant's shard.
 */
export async function probeEachTenant<T>(
  db: Queryable,
  probe: (tenant_id: string) => Promise<T | undefined>,
  answers_max = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  assert(answers_max >= 1, "a probe round wants at least one answer");
  const tenants = await selectTenantIds(db);
  const answers: (T | undefined)[] = new Array(tenants.length).fill(undefined);
  let next = 0;
  let answered = 0;
  const prober = async (): Promise<void> => {
    while (next < tenants.length && answered < answers_max) {
      const index = next++;
      const answer = await probe(tenants[index]!);
      answers[index] = answer;
      if (answer !== undefined) answered++;
    }
  };
  const in_flight = Math.min(citus_tenant_probes_in_flight_max, tenants.length);
  await Promise.all(Array.from({ length: in_flight }, prober));
  // Every tenant before `next` was probed, so these are the first answers in tenant order.
  const given = answers.filter((answer): answer is T => answer !== undefined);
  assert(given.length === answered, "every answer is kept once");
  return given.slice(0, answers_max);
}
