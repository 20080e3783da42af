import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../core/ids.ts";
import type { Database } from "../store/database.ts";
import { openOwnTestDatabase } from "../testing/db.ts";
import { needsOwnVacuum, tablesDue, vacuumRound } from "./autovacuum.ts";
import { runSimulation } from "./simulation.ts";

// The simulation's stand-in for the autovacuum launcher: the thresholds as PostgreSQL's own
// (pure), a real round on a database of its own (the suite's shared one belongs to every file),
// and a short run that vacuums as it goes with every invariant held.

const defaults = {
  vacuum_base: 50,
  vacuum_scale: 0.2,
  insert_base: 1000,
  insert_scale: 0.2,
  analyze_base: 50,
  analyze_scale: 0.1,
};
const table = (over: Partial<Parameters<typeof tablesDue>[0][number]>) => ({
  schema: "public",
  table: "orders",
  dead_rows: 0,
  inserted_since_vacuum: 0,
  modified_since_analyze: 0,
  rows_estimate: 1_000,
  ...over,
});

describe("the simulation's autovacuum rounds", () => {
  it("vacuums past PostgreSQL's thresholds, not at them; analyses a table only changed", () => {
    // 50 + 0.2 × 1,000 = 250 dead rows is the threshold itself: not yet.
    expect(tablesDue([table({ dead_rows: 250 })], defaults)).toEqual({ vacuumed: [], analyzed: [] });
    expect(tablesDue([table({ dead_rows: 251 })], defaults).vacuumed).toEqual(['"public"."orders"']);
    // A table never analysed (reltuples -1) counts as empty: 51 dead rows are enough.
    expect(tablesDue([table({ dead_rows: 51, rows_estimate: -1 })], defaults).vacuumed).toHaveLength(1);
    // Inserts alone (an append-only table) trigger a vacuum past 1,000 + 0.2 × rows...
    expect(tablesDue([table({ inserted_since_vacuum: 1_201 })], defaults).vacuumed).toHaveLength(1);
    // ...unless the insert threshold is off (-1), as the server allows.
    expect(
      tablesDue([table({ inserted_since_vacuum: 1_000_000 })], { ...defaults, insert_base: -1 }),
    ).toEqual({
      vacuumed: [],
      analyzed: [],
    });
    // 50 + 0.1 × 1,000 = 150 changed rows: analysed, not vacuumed.
    expect(tablesDue([table({ modified_since_analyze: 151 })], defaults)).toEqual({
      vacuumed: [],
      analyzed: ['"public"."orders"'],
    });
    expect(tablesDue([table({ table: 'we"ird', dead_rows: 10_000 })], defaults).vacuumed).toEqual([
      '"public"."we""ird"',
    ]);
  });
});

describe("on a database of its own", () => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openOwnTestDatabase("sim_vacuum"));
  }, 120_000);
  afterAll(async () => close());

  it("clears a table's dead rows when no launcher would", async () => {
    // This machine's server and PGlite both run without the launcher; elsewhere the round is the server's.
    if (!(await needsOwnVacuum(db))) return;
    await db.query("CREATE TABLE vacuum_probe (id int8 PRIMARY KEY, note text)");
    await db.query("INSERT INTO vacuum_probe SELECT g, 'x' FROM generate_series(1, 2000) g");
    await db.query("DELETE FROM vacuum_probe WHERE id <= 1500");
    const dead = async () => {
      // Statistics reach the shared counters at the end of a transaction, at most once a second.
      await db.query("SELECT pg_stat_force_next_flush()");
      await db.query("SELECT 1");
      const [row] = await db.query<{ dead: number }>(
        "SELECT n_dead_tup::int4 AS dead FROM pg_stat_user_tables WHERE relname = 'vacuum_probe'",
      );
      return row?.dead ?? -1;
    };
    expect(await dead()).toBe(1_500);
    const round = await vacuumRound(db);
    expect(round.vacuumed).toContain('"public"."vacuum_probe"');
    expect(await dead()).toBe(0);
    // Nothing left to do: a second round right away finds no table of ours due.
    expect((await vacuumRound(db)).vacuumed).not.toContain('"public"."vacuum_probe"');
  }, 60_000);

  it("a short run vacuums at its checks and every invariant holds", async () => {
    if (!(await needsOwnVacuum(db))) return;
    const tenant_id = `sim-${newId().replaceAll("-", "").slice(-16)}`;
    const result = await runSimulation({ db, seed: 77, ops: 200, check_every: 100, tenant_id });
    expect(result.failure).toBeNull();
    expect(result.vacuum_rounds).toBe(2);
    // How many tables a round finds due depends on when the run's backends flushed their
    // statistics (at most once a second each), so only the count of rounds is certain here; the
    // test above proves a round clears what is due.
  }, 240_000);
});
