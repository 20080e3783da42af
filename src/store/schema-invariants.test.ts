import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "../testing/db.ts";
import { coordinator_local_tables, foreign_keys_dropped_on_citus, reference_tables } from "./citus-sql.ts";
import type { Database } from "./database.ts";
import { loadMigrations } from "./migrate.ts";

// After the migrations, the schema is one Citus can shard by tenant_id
// (issue 20, docs/scale.md §3), checked on plain PostgreSQL and PGlite so that
// a migration that would break the sharded deployment fails here first.

let db: Database;
let tables: string[];
beforeAll(async () => {
  db = await openTestDatabase();
  // ClearSplit's tables are the ones its migrations create: on PostgreSQL the
  // suite's files share a database, where other tests make scratch tables,
  // and on Citus the coordinator also holds shards (table_<shard id>).
  const created = loadMigrations().flatMap((migration) =>
    [...migration.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_0-9]+)/g)].map((match) => match[1]!),
  );
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname = ANY($1::text[]) ORDER BY 1`,
    [["schema_migrations", ...created]],
  );
  tables = rows.map((row) => row.name);
  expect(tables.length).toBeGreaterThan(40);
});
afterAll(async () => db.close());

const exempt = new Set([...reference_tables, ...coordinator_local_tables]);

interface KeyRow {
  table_name: string;
  key_name: string;
  columns: string[];
}

/** Primary keys, unique constraints and unique indexes, each with its columns in key order. */
async function uniqueKeys(): Promise<KeyRow[]> {
  return db.query<KeyRow & Record<string, unknown>>(
    `SELECT c.relname AS table_name, ic.relname AS key_name,
            array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ordinality)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   ORDER BY k.ordinality) AS columns
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND i.indisunique ORDER BY 1, 2`,
  );
}

describe("the schema Citus shards by tenant_id", () => {
  it("has a tenant_id column on every table but the listed reference and coordinator-local ones", async () => {
    const rows = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name = 'tenant_id' AND data_type = 'text'`,
    );
    const with_tenant = new Set(rows.map((row) => row.table_name));
    const neither = tables.filter((table) => !with_tenant.has(table) && !exempt.has(table));
    expect(neither).toEqual([]);
    const unknown = [...exempt].filter((table) => !tables.includes(table));
    expect(unknown).toEqual([]);
  });

  it("leads every primary key, unique constraint and unique index of a sharded table with tenant_id", async () => {
    const keys = await uniqueKeys();
    const offending = keys
      .filter((key) => tables.includes(key.table_name))
      .filter((key) => !exempt.has(key.table_name) && key.columns[0] !== "tenant_id")
      .map((key) => `${key.table_name}.${key.key_name} (${key.columns.join(", ")})`);
    expect(offending).toEqual([]);
    const without_primary_key = tables.filter(
      (table) => !keys.some((key) => key.table_name === table && key.key_name === `${table}_pkey`),
    );
    expect(without_primary_key).toEqual([]);
  });

  it("has no foreign key that crosses tenants, nor one Citus cannot keep", async () => {
    const rows = await db.query<{
      table_name: string;
      referenced: string;
      columns: string[];
      ref_columns: string[];
    }>(
      `SELECT c.conrelid::regclass::text AS table_name, c.confrelid::regclass::text AS referenced,
              array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, o)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.o) AS columns,
              array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, o)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.o) AS ref_columns
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.contype = 'f' ORDER BY 1, 2`,
    );
    const dropped = new Set(foreign_keys_dropped_on_citus.map((fk) => `${fk.table}(${fk.columns})`));
    const offending: string[] = [];
    for (const row of rows.filter((each) => tables.includes(each.table_name))) {
      const name = `${row.table_name}(${row.columns.join(", ")}) → ${row.referenced}(${row.ref_columns.join(", ")})`;
      const from_sharded = !exempt.has(row.table_name);
      const to_sharded = !exempt.has(row.referenced);
      if (reference_tables.includes(row.referenced)) {
        // Reference tables are on every node; only tenants is one, keyed by the tenant id.
        if (row.columns[0] !== "tenant_id" && from_sharded) offending.push(name);
      } else if (from_sharded && to_sharded) {
        // Co-located: the same tenant_id on both sides, so both rows live in one shard group.
        const position = row.columns.indexOf("tenant_id");
        if (position < 0 || row.ref_columns[position] !== "tenant_id") offending.push(name);
      } else if (!dropped.has(`${row.table_name}(${row.columns.join(", ")})`)) {
        offending.push(name);
      }
    }
    expect(offending).toEqual([]);
  });

  it("has no row-level security policy with a subquery", async () => {
    const rows = await db.query<{ tablename: string; policyname: string }>(
      `SELECT tablename, policyname FROM pg_policies
        WHERE schemaname = 'public' AND tablename = ANY($1::text[])
          AND (coalesce(qual, '') ~* '\\mselect\\M' OR coalesce(with_check, '') ~* '\\mselect\\M')
        ORDER BY 1, 2`,
      [tables],
    );
    expect(rows.map((row) => `${row.tablename}.${row.policyname}`)).toEqual([]);
  });

  it("has triggers only of kinds Citus runs on shards: none on a reference table, none reading another table", async () => {
    const rows = await db.query<{ table_name: string; trigger_name: string; language: string; body: string }>(
      `SELECT t.tgrelid::regclass::text AS table_name, t.tgname AS trigger_name, l.lanname AS language, p.prosrc AS body
         FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
        WHERE NOT t.tgisinternal ORDER BY 1, 2`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const offending: string[] = [];
    for (const row of rows.filter((each) => tables.includes(each.table_name))) {
      const name = `${row.table_name}.${row.trigger_name}`;
      if (reference_tables.includes(row.table_name)) offending.push(`${name} is on a reference table`);
      if (row.language !== "plpgsql") offending.push(`${name} is in ${row.language}`);
      // On a shard the table is named table_<shard id>; a trigger reads its own through TG_TABLE_NAME.
      const named = tables.filter((table) => new RegExp(`\\b${table}\\b`).test(row.body));
      if (named.length > 0) offending.push(`${name} names ${named.join(", ")}`);
    }
    expect(offending).toEqual([]);
  });
});
