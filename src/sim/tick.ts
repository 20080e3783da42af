import { audit_events_per_round_max } from "../core/limits.ts";
import { runAuditRound } from "../service/audit/runner.ts";
import { sequencer_batch_max, sequenceTenantEvents } from "../service/events/event-sequencer.ts";
import { releaseDue, releases_per_batch_max } from "../service/orders/order-lifecycle.ts";
import { settleIfDue } from "../service/settlement/scheduled.ts";
import { sequenceOnce } from "../service/tlog/log-sequencer.ts";
import { inTransaction } from "../store/retry.ts";
import type { World } from "./world.ts";

// What the server's background loops do, run in line at the virtual clock's
// current instant: the scheduler's release pass and daily settlement, the
// event sequencer, the audit runner, and the log sequencer. In one process
// with one clock the interleaving is the generator's, so a seed replays it.

/** Rounds per background step per tick, so one tick is bounded even after a long clock jump. */
const rounds_per_tick_max = 20;

export async function tick(world: World): Promise<void> {
  const { ctx, tenant_id } = world;
  const timed = async (part: string, work: () => Promise<void>) => {
    const started_ms = performance.now();
    if (world.statements === undefined) await work();
    else await world.statements.within(`tick:${part}`, work);
    world.model.time(`tick:${part}`, performance.now() - started_ms);
  };
  await timed("release", async () => {
    for (let round = 0; round < rounds_per_tick_max; round++) {
      if ((await releaseDue(ctx, tenant_id)) < releases_per_batch_max) break;
    }
  });
  await timed("settle", async () => {
    if ((await settleIfDue(ctx, tenant_id)) > 0) await collectScheduledPayouts(world);
  });
  await timed("log", () => sequenceLog(world));
  await timed("events", async () => {
    for (let round = 0; round < rounds_per_tick_max; round++) {
      const count = await inTransaction(ctx.db, (tx) => sequenceTenantEvents(tx, tenant_id));
      if (count < sequencer_batch_max) break;
    }
  });
  await timed("audit", async () => {
    for (let round = 0; round < rounds_per_tick_max; round++) {
      if ((await runAuditRound(ctx, tenant_id)) < audit_events_per_round_max) break;
    }
  });
}

export async function sequenceLog(world: World): Promise<void> {
  await sequenceOnce(world.ctx, world.tenant_id, { keys: world.log.keys, cache: world.log.cache });
}

/**
 * The scheduler's run returns only a count; the payouts it made are read back
 * in a stable order (party, currency) so the next picks replay with the seed.
 */
async function collectScheduledPayouts(world: World): Promise<void> {
  const known = new Set(world.model.in_transit.map((payout) => payout.id));
  const rows = await world.ctx.db.query<{ id: string; amount_minor: bigint }>(
    `SELECT p.id::text, p.amount_minor FROM payouts p
      WHERE p.tenant_id = $1 AND p.state = 'in_transit'
      ORDER BY p.party_id, p.currency, p.created_at`,
    [world.tenant_id],
  );
  for (const row of rows) {
    if (known.has(row.id)) continue;
    world.model.addPayout({ id: row.id, amount_minor: BigInt(row.amount_minor), state: "in_transit" });
  }
}
