import { describe, expect, it } from "vitest";
import { newId } from "../core/ids.ts";
import { openTestDatabase } from "../testing/db.ts";
import { RetryTransaction } from "./retry.ts";
import { combineSteps, type WriteStep, writeSteps } from "./write-set.ts";

const insertInto = (name: string, table: string): WriteStep => ({
  ctes: [
    [
      name,
      `INSERT INTO ${table} (k, v) SELECT $1, unnest($2::int8[]) ON CONFLICT (k, v) DO NOTHING RETURNING 1`,
    ],
  ],
  params: ["a", [1n, 2n]],
  expect: { rows: 2, retry: `${table} was written concurrently` },
});

describe("combined writes", () => {
  it("renumbers each step's placeholders after the params of the steps before it", () => {
    const { text, params } = combineSteps([insertInto("one", "t1"), insertInto("two", "t2")]);
    expect(params).toEqual(["a", [1n, 2n], "a", [1n, 2n]]);
    expect(text).toContain("SELECT $1, unnest($2::int8[])");
    expect(text).toContain("SELECT $3, unnest($4::int8[])");
    expect(text).toContain(
      "(SELECT count(*) FROM one)::int8 AS one, (SELECT count(*) FROM two)::int8 AS two",
    );
  });

  it("counts the last CTE of every step, in step order, so the steps run in that order", () => {
    const { text, counted } = combineSteps([
      { ctes: [["first_rows", "SELECT $1::int8 AS n"]], params: [1n] },
      insertInto("second", "t2"),
    ]);
    expect(counted).toEqual(["first_rows", "second"]);
    expect(text).toMatch(
      /\(SELECT count\(\*\) FROM first_rows\)::int8 AS first_rows, \(SELECT count\(\*\) FROM second\)/,
    );
  });

  it("refuses a placeholder beyond its step's params, an unused param, a repeated name, a comment and a dollar quote", () => {
    expect(() => combineSteps([{ ctes: [["x", "SELECT $2"]], params: [1] }])).toThrow(/refers to \$2 of 1/);
    expect(() => combineSteps([{ ctes: [["x", "SELECT $1"]], params: [1, 2] }])).toThrow(/unused/);
    expect(() => combineSteps([insertInto("one", "t1"), insertInto("one", "t2")])).toThrow(/used twice/);
    expect(() => combineSteps([{ ctes: [["x", "SELECT $q$a$q$"]], params: [] }])).toThrow(/dollar-quoted/);
    expect(() => combineSteps([{ ctes: [["x", "SELECT 1 -- $1"]], params: [] }])).toThrow(/comment/);
  });

  it("writes every step in one statement and retries when a step wrote fewer rows than expected", async () => {
    const db = await openTestDatabase();
    // Own table names: on PostgreSQL the suite's files share one database.
    const suffix = newId().replaceAll("-", "").slice(-12);
    const [t1, t2] = [`ws1_${suffix}`, `ws2_${suffix}`];
    try {
      await db.exec(`CREATE TABLE ${t1} (k text, v int8, PRIMARY KEY (k, v));
                     CREATE TABLE ${t2} (k text, v int8, PRIMARY KEY (k, v));`);
      await db.transaction((tx) => writeSteps(tx, [insertInto("one", t1), null, insertInto("two", t2)]));
      const [counts] = await db.query<{ t1: bigint; t2: bigint }>(
        `SELECT (SELECT count(*) FROM ${t1})::int8 AS t1, (SELECT count(*) FROM ${t2})::int8 AS t2`,
      );
      expect(counts).toEqual({ t1: 2n, t2: 2n });
      // Both rows of t2 exist now: its insert skips them, and the count says so.
      await db.exec(`DELETE FROM ${t1}`);
      const again = db.transaction((tx) => writeSteps(tx, [insertInto("one", t1), insertInto("two", t2)]));
      await expect(again).rejects.toBeInstanceOf(RetryTransaction);
      await expect(again).rejects.toThrow(`${t2} was written concurrently`);
      // The failed statement wrote nothing: the rolled-back transaction took t1's rows with it.
      const [left] = await db.query<{ t1: bigint }>(`SELECT count(*)::int8 AS t1 FROM ${t1}`);
      expect(left?.t1).toBe(0n);
    } finally {
      await db.exec(`DROP TABLE IF EXISTS ${t1}; DROP TABLE IF EXISTS ${t2};`);
      await db.close();
    }
  });

  it("on Citus sends each step, or the statements it gives for Citus, as its own statement in order, with the same checks", async () => {
    const db = await openTestDatabase();
    const suffix = newId().replaceAll("-", "").slice(-12);
    const [t1, t2] = [`ws3_${suffix}`, `ws4_${suffix}`];
    const sent: string[] = [];
    const steps = (): (WriteStep | null)[] => [
      { ...insertInto("never", t1), sharded: [insertInto("first", t1), insertInto("second", t2)] },
      null,
      { ctes: [["third", "SELECT $1::int8 AS n"]], params: [1n], expect: { rows: 1 } },
    ];
    const run = () =>
      db.transaction((tx) =>
        writeSteps(
          {
            sharded: true,
            query: <T extends Record<string, unknown>>(text: string, params?: readonly unknown[]) => {
              sent.push(text.slice("WITH ".length, text.indexOf(" AS ")));
              return tx.query<T>(text, params);
            },
          },
          steps(),
        ),
      );
    try {
      await db.exec(`CREATE TABLE ${t1} (k text, v int8, PRIMARY KEY (k, v));
                     CREATE TABLE ${t2} (k text, v int8, PRIMARY KEY (k, v));`);
      await run();
      expect(sent).toEqual(["first", "second", "third"]);
      const [counts] = await db.query<{ t1: bigint; t2: bigint }>(
        `SELECT (SELECT count(*) FROM ${t1})::int8 AS t1, (SELECT count(*) FROM ${t2})::int8 AS t2`,
      );
      expect(counts).toEqual({ t1: 2n, t2: 2n });
      // Again: the first statement finds its rows taken, and nothing after it is sent.
      sent.length = 0;
      await expect(run()).rejects.toThrow(`${t1} was written concurrently`);
      expect(sent).toEqual(["first"]);
    } finally {
      await db.exec(`DROP TABLE IF EXISTS ${t1}; DROP TABLE IF EXISTS ${t2};`);
      await db.close();
    }
  });
});
