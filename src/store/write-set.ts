import { assert } from "../core/assert.ts";
import type { Queryable } from "./database.ts";
import { RetryTransaction } from "./retry.ts";

// The writes of one booking (journal, postings, log records, order rows,
// order parties, events, balances) go to PostgreSQL as ONE statement, each
// table's write a data-modifying CTE of it. Sent as separate statements, even
// pipelined, each is its own socket write, parse/bind/execute and result, all
// paid in the server's one event-loop thread (docs/decisions.md §12).
// PostgreSQL runs every data-modifying CTE exactly once and to completion, all
// against one snapshot, whatever the final SELECT reads; so a step never sees
// another's rows, and none needs to.

/** One write of a combined statement. */
export interface WriteStep {
  /**
   * Its CTEs in order, each `[name, sql]` or `[name, sql, "materialized"]`.
   * Names are unique across the combined statement; `$1`…`$n` in the SQL
   * index this step's own params, and every one of them is used. The last
   * CTE returns rows (`RETURNING 1` for an insert): the final SELECT counts it.
   */
  ctes: readonly (readonly [name: string, sql: string, materialized?: "materialized"])[];
  params: readonly unknown[];
  /**
   * How many rows the last CTE must return. With `retry`, fewer means a
   * concurrent writer took a key since we looked, and the whole transaction
   * starts again (RetryTransaction, `retry` its reason); without, any other
   * count is a broken invariant.
   */
  expect?: { rows: number; retry?: string };
  /**
   * On Citus (Queryable.sharded) every step is sent as its own statement, which
   * Citus routes to the tenant's shard; a step whose CTEs Citus cannot route
   * that way (a FOR UPDATE beside an UPDATE) gives here the statements to send
   * instead, in order, each its own step. The combined form ignores it.
   */
  sharded?: readonly WriteStep[];
}

export const write_steps_max = 16;
const cte_name = /^[a-z][a-z0-9_]{0,62}$/;
const placeholder = /\$(\d+)/g;
// Renumbering is textual, so the SQL of a step may hold no comment and no
// dollar-quoted string, where a `$n` would be renumbered too (and no string
// literal with a `$` in it, which this cannot see: none has one).
const unsafe_sql = /--|\/\*|\$(?!\d)/;

export interface CombinedStatement {
  text: string;
  params: unknown[];
  /** The counted CTE of each step, in step order. */
  counted: string[];
}

/**
 * The one statement for these steps: `WITH <every CTE> SELECT <count of each
 * step's last CTE>`. PostgreSQL runs a data-modifying CTE when the final
 * SELECT first reads it, and the ones it never reads only after that; so every
 * step's last CTE is counted, in step order, and the steps run in the order
 * given: the balance update, last, takes its row locks last.
 */
export function combineSteps(steps: readonly WriteStep[]): CombinedStatement {
  assert(steps.length >= 1, "a combined write has at least one step");
  assert(steps.length <= write_steps_max, `a combined write has at most ${write_steps_max} steps`);
  const names = new Set<string>();
  const ctes: string[] = [];
  const params: unknown[] = [];
  const counted: string[] = [];
  for (const step of steps) {
    assert(step.ctes.length >= 1, "a step has at least one CTE");
    const offset = params.length;
    const used = new Set<number>();
    for (const [name, sql, materialized] of step.ctes) {
      assert(cte_name.test(name), `CTE name ${JSON.stringify(name)} is not a plain identifier`);
      assert(!names.has(name), `CTE name ${name} is used twice`);
      assert(!unsafe_sql.test(sql), `CTE ${name} holds a comment or a dollar-quoted string`);
      names.add(name);
      const body = sql.replace(placeholder, (_, n: string) => {
        used.add(Number(n));
        return renumber(name, Number(n), step.params.length, offset);
      });
      ctes.push(`${name} AS ${materialized === "materialized" ? "MATERIALIZED " : ""}(${body})`);
    }
    assert(used.size === step.params.length, `step ${step.ctes[0]![0]} leaves a parameter unused`);
    params.push(...step.params);
    counted.push(step.ctes[step.ctes.length - 1]![0]);
  }
  const select = `SELECT ${counted.map((name) => `(SELECT count(*) FROM ${name})::int8 AS ${name}`).join(", ")}`;
  return { text: `WITH ${ctes.join(",\n")}\n${select}`, params, counted };
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
  if (tx.sharded === true) return writeStepsOneByOne(tx, present);
  const { text, params, counted } = combineSteps(present);
  const [counts] = await tx.query<Record<string, bigint>>(text, params);
  assert(counts !== undefined, "a combined write returns one row");
  present.forEach((step, position) => {
    const cte = counted[position]!;
    const rows = counts[cte];
    assert(typeof rows === "bigint", `combined write did not count ${cte}`);
    checkCount(step, cte, rows);
  });
}

/**
 * Citus: a combined statement's CTEs each become a command of their own from
 * the coordinator, and a locking CTE's intermediate result breaks, so each
 * step goes as one statement filtered by its tenant, which Citus routes whole
 * to the shard. Still one transaction; the order of steps is kept.
 */
async function writeStepsOneByOne(tx: Queryable, steps: readonly WriteStep[]): Promise<void> {
  for (const step of steps.flatMap((each) => each.sharded ?? [each])) {
    const { text, params, counted } = combineSteps([step]);
    const [counts] = await tx.query<Record<string, bigint>>(text, params);
    assert(counts !== undefined, "a step's write returns one row");
    const rows = counts[counted[0]!];
    assert(typeof rows === "bigint", `write did not count ${counted[0]}`);
    checkCount(step, counted[0]!, rows);
  }
}

function checkCount(step: WriteStep, cte: string, rows: bigint): void {
  if (step.expect === undefined) return;
  const wrote = `${cte} wrote ${rows} rows, not ${step.expect.rows}`;
  assert(rows <= BigInt(step.expect.rows), wrote);
  if (rows === BigInt(step.expect.rows)) return;
  assert(step.expect.retry !== undefined, wrote);
  throw new RetryTransaction(step.expect.retry);
}
