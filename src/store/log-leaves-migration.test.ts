import { describe, expect, it } from "vitest";
import { tenantsWithPendingEvents } from "../service/events/event-sequencer.ts";
import { firstUnsequenced } from "./log-leaves-sql.ts";
import { loadMigrations, migrate } from "./migrate.ts";
import { openPglite } from "./pglite.ts";

// Migration 008 moves leaf indexes out of log_records, and seqs out of events. It runs on a private
// embedded database: the data below is written in the old schema, with xids
// chosen by hand, which a shared PostgreSQL test database cannot hold.

const id = (n: number) => `00000000-0000-7000-8000-${n.toString().padStart(12, "0")}`;

async function insertOld(
  db: Awaited<ReturnType<typeof openPglite>>,
  rows: { tenant: string; n: number; xid: number; leaf: number | null }[],
): Promise<void> {
  for (const row of rows) {
    await db.query(
      `INSERT INTO log_records (tenant_id, id, kind, salt, record_sha256, party_ids, xid, leaf_index, created_at)
       VALUES ($1, $2::uuid, 'policy', decode(repeat('00', 16), 'hex'), sha256(convert_to($2::text, 'UTF8')), '{}', $3::text::xid8, $4::int8, now())`,
      [row.tenant, id(row.n), String(row.xid), row.leaf],
    );
  }
}

async function insertOldEvents(
  db: Awaited<ReturnType<typeof openPglite>>,
  rows: { tenant: string; n: number; xid: number; seq: number | null }[],
): Promise<void> {
  for (const row of rows) {
    await db.query(
      `INSERT INTO events (tenant_id, id, type, party_ids, payload, xid, seq, created_at)
       VALUES ($1, $2::uuid, 'test', '{}', '{}', $3::text::xid8, $4::int8, now())`,
      [row.tenant, id(row.n), String(row.xid), row.seq],
    );
  }
}

describe("migration 008 (log_leaves, event_seqs)", () => {
  it("copies every leaf index, drops the column, and refuses a log the cursor could not continue", async () => {
    const db = await openPglite();
    try {
      const migrations = loadMigrations();
      const before = migrations.findIndex((migration) => migration.name === "log_leaves");
      expect(before).toBeGreaterThan(0);
      await migrate(db, migrations.slice(0, before));
      await insertOld(db, [
        { tenant: "a", n: 1, xid: 100, leaf: 0 },
        { tenant: "a", n: 2, xid: 100, leaf: 1 },
        { tenant: "a", n: 3, xid: 101, leaf: 2 },
        { tenant: "a", n: 4, xid: 102, leaf: null },
        // Out of (xid, id) order, and a queued record that sorts before the last leaf.
        { tenant: "bad", n: 5, xid: 150, leaf: null },
        { tenant: "bad", n: 6, xid: 200, leaf: 1 },
        { tenant: "bad", n: 7, xid: 201, leaf: 0 },
      ]);
      await insertOldEvents(db, [
        { tenant: "a", n: 11, xid: 100, seq: 1 },
        { tenant: "a", n: 12, xid: 103, seq: 2 },
        { tenant: "a", n: 13, xid: 104, seq: null },
        { tenant: "bad", n: 15, xid: 150, seq: 2 },
        { tenant: "bad", n: 16, xid: 151, seq: 1 },
      ]);
      await expect(migrate(db, migrations.slice(0, before + 1))).rejects.toThrow(
        /2 leaves out of \(xid, id\) order and 1 queued records before the last leaf/,
      );
      await db.transaction(async (tx) => {
        await tx.query("SET LOCAL session_replication_role = replica");
        await tx.query("DELETE FROM log_records WHERE tenant_id = 'bad'");
      });
      await expect(migrate(db, migrations.slice(0, before + 1))).rejects.toThrow(
        /2 events numbered out of \(xid, id\) order and 0 queued events/,
      );
      await db.query("DELETE FROM events WHERE tenant_id = 'bad'");
      expect(await migrate(db, migrations.slice(0, before + 1))).toEqual([before + 1]);

      const seqs = await db.query<{ tenant_id: string; seq: bigint; event_id: string }>(
        "SELECT tenant_id, seq, event_id::text AS event_id FROM event_seqs ORDER BY tenant_id, seq",
      );
      expect(seqs).toEqual([
        { tenant_id: "a", seq: 1n, event_id: id(11) },
        { tenant_id: "a", seq: 2n, event_id: id(12) },
      ]);
      expect(await tenantsWithPendingEvents(db)).toEqual([]); // tenant "a" is not in tenants
      await db.query("INSERT INTO tenants (id, name) VALUES ('a', 'a')");
      expect(await tenantsWithPendingEvents(db)).toEqual(["a"]);

      const leaves = await db.query<{ tenant_id: string; leaf_index: bigint; record_id: string }>(
        "SELECT tenant_id, leaf_index, record_id::text AS record_id FROM log_leaves ORDER BY tenant_id, leaf_index",
      );
      expect(leaves).toEqual([
        { tenant_id: "a", leaf_index: 0n, record_id: id(1) },
        { tenant_id: "a", leaf_index: 1n, record_id: id(2) },
        { tenant_id: "a", leaf_index: 2n, record_id: id(3) },
      ]);
      const columns = await db.query<{ name: string }>(
        "SELECT attname AS name FROM pg_attribute WHERE attrelid = 'log_records'::regclass AND attnum > 0 AND NOT attisdropped",
      );
      expect(columns.map((column) => column.name)).not.toContain("leaf_index");
      // The cursor continues from the migrated leaves.
      expect((await firstUnsequenced(db, "a"))?.id).toBe(id(4));
      await expect(
        db.query("UPDATE log_records SET party_ids = '{x}' WHERE tenant_id = 'a'"),
      ).rejects.toThrow(/not allowed/);
    } finally {
      await db.close();
    }
  });
});
