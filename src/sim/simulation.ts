import { createHash } from "node:crypto";
import { assert } from "../core/assert.ts";
import { booking_rules, history_rules } from "../core/audit/rules.ts";
import { generateMarketplace, generateOrders } from "../core/demo/index.ts";
import { createAuditConfigDraft, publishAuditConfig } from "../service/audit/configs.ts";
import type { ServiceContext } from "../service/context.ts";
import { seedMarketplace } from "../service/demo/seed.ts";
import { ensureTenant } from "../service/ledger/accounts.ts";
import { auditLog } from "../service/tlog/log-audit.ts";
import { LogKeyStore } from "../service/tlog/signing-keys.ts";
import { countedDatabase } from "../store/counted-database.ts";
import type { Database } from "../store/database.ts";
import { needsOwnVacuum, type VacuumMode, vacuumRound } from "./autovacuum.ts";
import { execute, finance, SimFailure } from "./execute.ts";
import { describeOperation, operations } from "./generator.ts";
import { emptyLedgerTally } from "./ledger-tally.ts";
import { SimModel } from "./model.ts";
import { invariantProblems } from "./sim-invariants.ts";
import type { StatementCounter } from "./statement-counter.ts";
import type { World } from "./world.ts";

// The deterministic simulation (docs/reliability.md): one process, one virtual
// clock, the real services on a real database, operations from the seed, the
// invariants every `check_every` steps and, at the end, the full set with the
// log audited as `clearsplit verify db` audits it.

export const ops_max = 100_000_000;
export const check_every_default = 500;
/**
 * The first full check (every posting and order reread) comes at this many
 * ordinary checks; each later one at twice the step of the one before, and
 * one at the end. The full checks' total cost is then about twice the last
 * one's: linear in the run (docs/decisions.md §28).
 */
const full_check_first_checks = 2;
const full_check_growth = 2;
const sim_start = "2026-01-05T08:00:00Z";
/** Big enough that the sim never needs a second one; orders are drawn lazily. */
const order_stream_max = 100_000_000;

export interface SimOptions {
  db: Database;
  seed: number;
  ops: number;
  check_every?: number;
  /** A tenant of its own, so runs can share a database. */
  tenant_id: string;
  on_progress?: (done: number, total: number) => void;
  /** Test hook: runs after step `at_step` (the planted-defect check proves the checker catches it). */
  /** Counts every statement the run sends, by part (`--statements`). */
  statements?: StatementCounter | undefined;
  tamper?: { at_step: number; apply: (db: Database, tenant_id: string) => Promise<void> };
  /** "auto" (the default): at each check, vacuum as autovacuum would when nothing else does (src/sim/autovacuum.ts). */
  vacuum?: VacuumMode;
}

export interface SimResult {
  seed: number;
  ops: number;
  steps_done: number;
  checks: number;
  /** Of `checks`, those that reread every row. */
  full_checks: number;
  elapsed_ms: number;
  /** SHA-256 of the operation sequence: the same seed gives the same digest. */
  sequence_sha256: string;
  failure: { step: number; operation: string; problems: string[] } | null;
  model: SimModel;
  checkpoints_verified: number;
  /** Launcher rounds the simulation ran itself (0 when the server's autovacuum is on, or with `vacuum: "off"`). */
  vacuum_rounds: number;
  tables_vacuumed: number;
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  assert(Number.isSafeInteger(options.seed), "the seed is a safe integer");
  assert(Number.isInteger(options.ops) && options.ops >= 1 && options.ops <= ops_max, "ops in 1..ops_max");
  const check_every = options.check_every ?? check_every_default;
  assert(Number.isInteger(check_every) && check_every >= 1, "check_every is a positive integer");
  const started_ms = performance.now();
  const world = await setUp(options);
  const digest = createHash("sha256");
  const stream = operations(options.seed);
  let checks = 0;
  let full_checks = 0;
  let full_check_next_step = check_every * full_check_first_checks;
  let step = 0;
  const own_vacuum = (options.vacuum ?? "auto") === "auto" && (await needsOwnVacuum(options.db));
  let vacuum_rounds = 0;
  let tables_vacuumed = 0;
  const fail = (operation: string, problems: string[]) => result({ step, operation, problems });
  const result = (failure: SimResult["failure"]): SimResult => ({
    seed: options.seed,
    ops: options.ops,
    steps_done: step,
    checks,
    full_checks,
    elapsed_ms: performance.now() - started_ms,
    sequence_sha256: digest.digest("hex"),
    failure,
    model: world.model,
    checkpoints_verified: world.log.checkpoints_verified,
    vacuum_rounds,
    tables_vacuumed,
  });
  while (step < options.ops) {
    const operation = stream.next().value!;
    const text = describeOperation(operation);
    digest.update(`${text}\n`);
    step++;
    try {
      await execute(world, operation);
    } catch (error) {
      if (!(error instanceof SimFailure))
        throw Object.assign(asError(error), { sim_step: step, sim_operation: text });
      return fail(text, [error.message]);
    }
    if (options.tamper !== undefined && options.tamper.at_step === step)
      await options.tamper.apply(options.db, world.tenant_id);
    if (step % check_every === 0 || step === options.ops) {
      const last = step === options.ops;
      const full = last || step >= full_check_next_step;
      checks++;
      if (full) {
        full_checks++;
        full_check_next_step = step * full_check_growth;
      }
      const check = () => invariantProblems(world, { full, all_orders: last });
      const problems = await (world.statements === undefined
        ? check()
        : world.statements.within("check", check));
      if (problems.length > 0) return fail(text, problems);
      if (own_vacuum) {
        const vacuum_started_ms = performance.now();
        const vacuum = () => vacuumRound(options.db);
        const round = await (world.statements === undefined
          ? vacuum()
          : world.statements.within("vacuum", vacuum));
        world.model.time("check:vacuum", performance.now() - vacuum_started_ms);
        vacuum_rounds++;
        tables_vacuumed += round.vacuumed.length;
      }
      options.on_progress?.(step, options.ops);
    }
  }
  const verify = () => auditLog(world.ctx.db, world.tenant_id, { grace_ms: 0, now: world.ctx.now() });
  const audit = await (world.statements === undefined ? verify() : world.statements.within("verify", verify));
  const findings = audit.findings.map(
    (finding) =>
      `log ${finding.finding} ${finding.record_kind ?? ""} ${finding.record_id ?? ""} (leaf ${finding.leaf_index ?? "-"}): ${finding.detail}`,
  );
  if (findings.length > 0) return fail("verify db", findings);
  return result(null);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

async function setUp(options: SimOptions): Promise<World> {
  let now_ms = Date.parse(sim_start);
  const db = options.statements === undefined ? options.db : countedDatabase(options.db, options.statements);
  const ctx: ServiceContext = { db, now: () => new Date(now_ms) };
  const clock = {
    advance: (ms: number) => {
      now_ms += ms;
    },
  };
  const market = generateMarketplace({ seed: options.seed });
  await ensureTenant(ctx, { id: options.tenant_id, name: `simulation ${options.seed}` });
  await seedMarketplace(ctx, options.tenant_id, market);
  // Every booking and history rule, so cases open on their own; larger cases need two reviewers.
  const body = {
    four_eyes_minor: 50_000,
    rules: [...booking_rules, ...history_rules].map((rule) => ({ id: rule.id })),
  };
  const draft = await createAuditConfigDraft(
    ctx,
    options.tenant_id,
    { name: "simulation rules", body },
    finance,
  );
  await publishAuditConfig(ctx, options.tenant_id, draft.id, finance);
  const orders = generateOrders(market, {
    seed: options.seed,
    count: order_stream_max,
    start_ms: now_ms,
    end_ms: now_ms,
    id_prefix: "SIM",
  });
  return {
    ctx,
    clock,
    tenant_id: options.tenant_id,
    model: new SimModel(),
    orders,
    log: { keys: new LogKeyStore(), cache: new Map(), last: null, checkpoints_verified: 0 },
    ledger: emptyLedgerTally(),
    statements: options.statements,
  };
}
