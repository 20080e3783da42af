import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";
import { RetryTransaction } from "./retry.ts";

// The writes of one booking (journal, postings, log records, order rows,
// order parties, events, balances) go to PostgreSQL as ONE statement, each
// table's write a data-modifying CTE of it. Sent as separate statements, even
// pipelined, each is its own socket write, parse/bind/execute and result: on
// loopback the socket writes alone were a quarter of the server's CPU under
// concurrent single-order traffic. PostgreSQL runs every data-modifying CTE
// exactly once and to completion, all against one snapshot, whether or not
// the final SELECT reads its rows; so a step never sees another's rows, and
// none needs to.

/** One write of a combined statement. */
export interface WriteStep {
  /**
   * Its CTEs in order, each `[name, sql]` or `[name, sql, "materialized"]`.
   * Names are unique across the combined statement; `$1`…`$n` in the SQL
   * index this step's own params.
   */
  ctes: readonly (readonly [name: string, sql: string, materialized?: "materialized"])[];
  params: readonly unknown[];
  /**
   * A CTE whose RETURNING rows are counted, and how many there must be. With
   * `retry`, fewer means a concurrent writer took a key since we looked, and
   * the whole transaction starts again (RetryTransaction, `retry` its reason);
   * without, any other count is a broken invariant.
   */
  expect?: { cte: string; rows: number; retry?: string };
}

export const write_steps_max = 16;
const cte_name = /^[a-z][a-z0-9_]{0,62}$/;
const placeholder = /\$(\d+)/g;

export interface CombinedStatement {
  text: string;
  params: unknown[];
}

/** The one statement for these steps: `WITH <every CTE> SELECT <each expected count>`. */
export function combineSteps(steps: readonly WriteStep[]): CombinedStatement {
  assert(steps.length >= 1, "a combined write has at least one step");
  assert(steps.length <= write_steps_max, `a combined write has at most ${write_steps_max} steps`);
  const names = new Set<string>();
  const ctes: string[] = [];
  const params: unknown[] = [];
  for (const step of steps) {
    const offset = params.length;
    for (const [name, sql, materialized] of step.ctes) {
      assert(cte_name.test(name), `CTE name ${JSON.stringify(name)} is not a plain identifier`);
      assert(!names.has(name), `CTE name ${name} is used twice`);
      // Renumbering is textual: a dollar-quoted string would be renumbered too.
      assert(!sql.includes("$$"), `CTE ${name} holds a dollar-quoted string`);
      names.add(name);
      const body = sql.replace(placeholder, (_, n: string) =>
        renumber(name, Number(n), step.params.length, offset),
      );
      ctes.push(`${name} AS ${materialized === "materialized" ? "MATERIALIZED " : ""}(${body})`);
    }
    params.push(...step.params);
    if (step.expect !== undefined)
      assert(
        step.ctes.some(([name]) => name === step.expect!.cte),
        `expected CTE ${step.expect.cte} is not one of its step's`,
      );
  }
  const counted = steps.flatMap((step) => (step.expect === undefined ? [] : [step.expect.cte]));
  const select =
    counted.length === 0
      ? "SELECT 1 AS done"
      : `SELECT ${counted.map((name) => `(SELECT count(*) FROM ${name})::int8 AS ${name}`).join(", ")}`;
  return { text: `WITH ${ctes.join(",\n")}\n${select}`, params };
}

function renumber(cte: string, n: number, count: number, offset: number): string {
  assert(Number.isInteger(n) && n >= 1 && n <= count, `CTE ${cte} refers to $${n} of ${count} params`);
  return `$${n + offset}`;
}

/**
 * Runs the steps as one statement inside the caller's transaction and checks
 * each expected row count. Steps given as null (nothing to write) are skipped.
 */
export async function writeSteps(tx: Queryable, steps: readonly (WriteStep | null)[]): Promise<void> {
  const present = steps.filter((step): step is WriteStep => step !== null);
  if (present.length === 0) return;
  const { text, params } = combineSteps(present);
  const [counts] = await tx.query<Record<string, bigint>>(text, params);
  assert(counts !== undefined, "a combined write returns one row");
  for (const step of present) {
    if (step.expect === undefined) continue;
    const rows = counts[step.expect.cte];
    assert(typeof rows === "bigint", `combined write did not count ${step.expect.cte}`);
    const wrote = `${step.expect.cte} wrote ${rows} rows, not ${step.expect.rows}`;
    assert(rows <= BigInt(step.expect.rows), wrote);
    if (rows === BigInt(step.expect.rows)) continue;
    assert(step.expect.retry !== undefined, wrote);
    throw new RetryTransaction(step.expect.retry);
  }
}
