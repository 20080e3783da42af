import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../core/ids.ts";
import type { Database } from "../store/database.ts";
import { openTestDatabase, turnTriggersOffLocally } from "../testing/db.ts";
import { describeOperation, type Operation, operations } from "./generator.ts";
import { runSimulation } from "./simulation.ts";

// The deterministic simulation in the suite: a short seeded run on the backend
// under test with every invariant held, the generator a pure function of the
// seed, and a planted defect (a balance raised out of band) caught at the next
// check with its step and seed.

const ops = Number(process.env.SIM_OPS ?? 600);
let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => db.close());

// `vacuum: "off"`: the suite's database is shared by every file, and vacuuming it is the
// server's business; autovacuum.test.ts runs the simulation's own rounds on a database of its own.
const tenant = () => `sim-${newId().replaceAll("-", "").slice(-16)}`;

function first(seed: number, count: number): string[] {
  const stream = operations(seed);
  return Array.from({ length: count }, () => describeOperation(stream.next().value as Operation));
}

describe("deterministic simulation", () => {
  it("generates the same operations from the same seed, and others from another", () => {
    expect(first(18, 2_000)).toEqual(first(18, 2_000));
    expect(first(19, 50)).not.toEqual(first(18, 50));
    const kinds = new Set(first(18, 2_000).map((text) => (JSON.parse(text) as Operation).kind));
    expect(kinds.size, "every operation kind appears in 2,000 steps").toBe(17);
  });

  it(`runs ${ops} operations of seed 1818 through the services with every invariant held`, async () => {
    const result = await runSimulation({
      db,
      seed: 1818,
      ops,
      check_every: 150,
      tenant_id: tenant(),
      vacuum: "off",
    });
    expect(result.failure).toBeNull();
    expect(result.steps_done).toBe(ops);
    expect(result.checks).toBeGreaterThanOrEqual(4);
    expect(result.model.orders_count).toBeGreaterThan(0);
    expect(result.model.refunded_out_minor).toBeGreaterThan(0n);
    expect(result.checkpoints_verified).toBe(result.checks);
    // The sequence the run executed is the generator's for the seed.
    const { createHash } = await import("node:crypto");
    const digest = createHash("sha256");
    for (const text of first(1818, ops)) digest.update(`${text}\n`);
    expect(result.sequence_sha256).toBe(digest.digest("hex"));
  }, 900_000);

  it("gives the same result for the same seed: every outcome and every total, run twice", async () => {
    const run = () =>
      runSimulation({ db, seed: 4242, ops: 150, check_every: 50, tenant_id: tenant(), vacuum: "off" });
    const summary = (result: Awaited<ReturnType<typeof run>>) => ({
      failure: result.failure,
      sequence_sha256: result.sequence_sha256,
      checks: [result.checks, result.full_checks, result.checkpoints_verified],
      orders: result.model.orders_count,
      money: [
        result.model.paid_in_minor,
        result.model.refunded_out_minor,
        result.model.paid_out_minor,
        result.model.in_transit_minor,
      ],
      outcomes: [...result.model.outcomes].map(([kind, by]) => [kind, [...by]]).sort(),
    });
    const first = summary(await run());
    expect(first.failure).toBeNull();
    expect(first.orders).toBeGreaterThan(0);
    expect(summary(await run())).toEqual(first);
  }, 300_000);

  it("catches a balance raised out of band at the next check, naming the step", async () => {
    const result = await runSimulation({
      db,
      seed: 7,
      ops: 200,
      check_every: 50,
      tenant_id: tenant(),
      vacuum: "off",
      tamper: {
        at_step: 60,
        apply: async (database, tenant_id) => {
          await database.query(
            `UPDATE balances SET posted_minor = posted_minor + 100000
              WHERE tenant_id = $1 AND account_id = (SELECT account_id FROM balances WHERE tenant_id = $1
                                                      ORDER BY account_id LIMIT 1)`,
            [tenant_id],
          );
        },
      },
    });
    expect(result.failure).not.toBeNull();
    expect(result.failure!.step).toBe(100);
    expect(result.failure!.problems.join("\n")).toMatch(/TRIAL_BALANCE/);
    expect(result.failure!.problems.join("\n")).toMatch(/postings sum to/);
  }, 300_000);

  it("catches an old posting changed out of band at the next full check, which the incremental checks cannot see", async () => {
    // Checks every 50 steps; full ones at 100, 200, 400. The posting changed at step 120 was
    // read at step 100, so the checks of 150 read past it, and the full check of 200 must find it.
    const result = await runSimulation({
      db,
      seed: 7,
      ops: 260,
      check_every: 50,
      tenant_id: tenant(),
      vacuum: "off",
      tamper: {
        at_step: 120,
        apply: async (database, tenant_id) => {
          // The journal's append-only trigger refuses the edit unless triggers are off, as an intruder with the superuser's rights would turn them.
          await database.transaction(async (tx) => {
            await turnTriggersOffLocally(tx);
            await tx.query(
              `UPDATE postings SET amount_minor = amount_minor + 1
              WHERE tenant_id = $1 AND (transaction_id, seq) = (SELECT transaction_id, seq FROM postings
                                                                  WHERE tenant_id = $1 ORDER BY transaction_id, seq LIMIT 1)`,
              [tenant_id],
            );
          });
        },
      },
    });
    expect(result.failure).not.toBeNull();
    expect(result.failure!.step).toBe(200);
    expect(result.full_checks).toBe(2);
    expect(result.failure!.problems.join("\n")).toMatch(/changed after it was written/);
  }, 300_000);
});
