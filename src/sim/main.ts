import { parseArgs } from "node:util";
import { createBenchDatabase } from "../bench/bench-database.ts";
import { assert } from "../core/assert.ts";
import { newId } from "../core/ids.ts";
import type { Database } from "../store/database.ts";
import { openDatabase } from "../store/open.ts";
import { ops_max, runSimulation, type SimResult } from "./simulation.ts";
import { StatementCounter } from "./statement-counter.ts";

// `npm run sim -- --ops N --seed S [--check-every K]`: the deterministic
// simulation on PGlite or on DATABASE_URL. Prints the seed first,
// progress while it runs, then ops/s and the result; exits 1 with the seed and
// step when an invariant breaks (docs/reliability.md). On PostgreSQL the run
// gets a database of its own on DATABASE_URL's server, dropped at the end
// (--keep-database keeps it to look into), so no `sim-*` tenant is left behind;
// on PGlite, a temporary directory, likewise.

/**
 * The run's database is thrown away at its end, so a commit need not wait for
 * its WAL to reach the disk: commits are as atomic and isolated as ever, only
 * not durable across a crash of the server, which the simulation never has
 * (the crash test is where durability is proven). Halves the wall time of a
 * small transaction here (docs/decisions.md §34).
 */
const throwaway_commits = "SET synchronous_commit = off";

const usage =
  "usage: npm run sim -- --ops N [--seed S] [--check-every K] [--keep-database] [--statements] [--vacuum auto|off]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ops: { type: "string" },
      seed: { type: "string" },
      "check-every": { type: "string" },
      "keep-database": { type: "boolean" },
      statements: { type: "boolean" },
      vacuum: { type: "string" },
    },
  });
  const ops = Number(values.ops ?? "10000");
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const check_every = values["check-every"] === undefined ? undefined : Number(values["check-every"]);
  if (!Number.isInteger(ops) || ops < 1 || ops > ops_max)
    return fail(`--ops must be 1..${ops_max}; ${usage}`);
  if (!Number.isSafeInteger(seed)) return fail(`--seed must be an integer; ${usage}`);
  if (check_every !== undefined && (!Number.isInteger(check_every) || check_every < 1))
    return fail(`--check-every must be a positive integer; ${usage}`);
  const vacuum = values.vacuum ?? "auto";
  if (vacuum !== "auto" && vacuum !== "off") return fail(`--vacuum must be auto or off; ${usage}`);
  const backend = process.env.DATABASE_URL ? "postgresql" : "pglite";
  process.stdout.write(`sim: seed ${seed}, ${ops} operations on ${backend}\n`);
  const { db, drop } = await simDatabase(values["keep-database"] === true);
  const started_ms = performance.now();
  cpu_started = process.cpuUsage();
  let last_print_ms = 0;
  const statements = values.statements === true ? new StatementCounter() : undefined;
  try {
    const result = await runSimulation({
      db,
      seed,
      ops,
      ...(check_every === undefined ? {} : { check_every }),
      statements,
      vacuum,
      tenant_id: `sim-${seed}-${newId().replaceAll("-", "").slice(-8)}`,
      on_progress: (done, total) => {
        const now_ms = performance.now();
        if (now_ms - last_print_ms < 5_000 && done !== total) return;
        last_print_ms = now_ms;
        const rate = done / ((now_ms - started_ms) / 1_000);
        process.stdout.write(
          `sim: ${done}/${total} operations, invariants hold, ${rate.toFixed(0)} ops/s, ${perCpuSecond(done)} per CPU-second\n`,
        );
      },
    });
    if (statements !== undefined) process.stdout.write(statements.report(result.steps_done));
    return report(result, check_every);
  } catch (error) {
    const where = error as { sim_step?: number; sim_operation?: string };
    process.stderr.write(
      `sim: FAILED seed ${seed} at step ${where.sim_step ?? "?"} (${where.sim_operation ?? "setup"}): ${
        error instanceof Error ? (error.stack ?? error.message) : String(error)
      }\n` +
        `sim: reproduce with npm run sim -- --ops ${ops} --seed ${seed}` +
        `${check_every === undefined ? "" : ` --check-every ${check_every}`}\n`,
    );
    return 1;
  } finally {
    await drop();
  }
}

/** A throwaway database: PGlite in a temporary directory, or a new database on DATABASE_URL's server. */
async function simDatabase(keep: boolean): Promise<{ db: Database; drop: () => Promise<void> }> {
  const database_url = process.env.DATABASE_URL;
  if (!database_url) {
    // A temporary directory, not memory: PGlite in memory keeps every page in the process
    // (about 27 KB more per operation), so a million operations would need some 27 GB of
    // RAM; on disk it stays under a gigabyte, for the same CPU per operation.
    const created = await createBenchDatabase("pglite", undefined, "clearsplit_sim");
    // PGlite is one session: this holds for the whole run (see throwaway_commits).
    await created.db.query(throwaway_commits);
    process.stdout.write(
      `sim: PGlite in ${created.location}${keep ? " (kept at the end)" : " (removed at the end)"}\n`,
    );
    return { db: created.db, drop: keep ? () => created.db.close() : () => created.drop() };
  }
  const created = await createBenchDatabase("pg", database_url, "clearsplit_sim");
  // Every session of the run's own database, so reopened: the pool's first sessions predate it.
  await created.db.query(`ALTER DATABASE ${created.location} ${throwaway_commits}`);
  await created.db.close();
  assert(created.url !== undefined, "a PostgreSQL bench database has a URL");
  const db = await openDatabase({ database_url: created.url, connections_max: 12 });
  process.stdout.write(
    `sim: database ${created.location}${keep ? " (kept at the end)" : " (dropped at the end)"}\n`,
  );
  return {
    db,
    drop: async () => {
      await db.close();
      if (!keep) await created.drop();
    },
  };
}

function report(result: SimResult, check_every: number | undefined): number {
  const seconds = result.elapsed_ms / 1_000;
  const { model } = result;
  process.stdout.write(
    `sim: seed ${result.seed}: ${result.steps_done} operations in ${seconds.toFixed(1)} s ` +
      `(${(result.steps_done / seconds).toFixed(0)} ops/s, ${perCpuSecond(result.steps_done)} per CPU-second), ${result.checks} invariant checks (${result.full_checks} full), ` +
      `${result.checkpoints_verified} checkpoints verified, ${result.vacuum_rounds} vacuum rounds (${result.tables_vacuumed} tables vacuumed), sequence sha256 ${result.sequence_sha256.slice(0, 16)}\n` +
      `sim: ${model.orders_count} orders, ${model.paid_in_minor} paid in, ${model.refunded_out_minor} refunded, ` +
      `${model.paid_out_minor} paid out, ${model.in_transit_minor} in transit (minor units)\n`,
  );
  for (const [kind, by_outcome] of [...model.outcomes].sort(([a], [b]) => (a < b ? -1 : 1)))
    process.stdout.write(
      `  ${kind.padEnd(17)} ${Math.round(model.elapsed_ms.get(kind) ?? 0)
        .toString()
        .padStart(7)} ms  ${[...by_outcome].map(([outcome, count]) => `${outcome} ${count}`).join(", ")}\n`,
    );
  const parts = [...model.elapsed_ms].filter(([part]) => part.includes(":"));
  process.stdout.write(
    `  time in parts: ${parts.map(([part, ms]) => `${part} ${Math.round(ms)} ms`).join(", ")}\n`,
  );
  if (result.failure === null) {
    process.stdout.write(`sim: OK, every invariant held (seed ${result.seed})\n`);
    return 0;
  }
  process.stderr.write(
    `sim: INVARIANT BROKEN, seed ${result.seed}, step ${result.failure.step} (${result.failure.operation}):\n` +
      result.failure.problems.map((problem) => `  ${problem}\n`).join("") +
      `sim: reproduce with npm run sim -- --ops ${result.failure.step} --seed ${result.seed}` +
      `${check_every === undefined ? "" : ` --check-every ${check_every}`}\n`,
  );
  return 1;
}

/**
 * Operations per second of this process's CPU time (user and system): on a
 * machine shared with other jobs the wall-clock rate says more about the
 * load than about the simulation. Counted from the start of the run, after
 * the database is open and migrated.
 */
let cpu_started: NodeJS.CpuUsage | undefined;

function perCpuSecond(operations: number): string {
  const { user, system } = process.cpuUsage(cpu_started);
  return (operations / ((user + system) / 1e6)).toFixed(0);
}

function fail(message: string): number {
  process.stderr.write(`sim: ${message}\n`);
  return 2;
}

process.exitCode = await main();
