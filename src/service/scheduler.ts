import { selectTenantIds } from "../store/tenants-sql.ts";
import type { ServiceContext } from "./context.ts";
import { expireHolds } from "./ledger/holds.ts";
import { releaseDue, releases_per_batch_max } from "./orders/order-lifecycle.ts";
import { foldLedgerDays } from "./reports/fold.ts";
import { runDueReports } from "./reports/saved.ts";
import { settleIfDue } from "./settlement/scheduled.ts";
import { forEachTenant, type TenantErrorHandler } from "./tenant-rounds.ts";

export interface SchedulerOptions {
  /** How often to look for due work. */
  interval_ms?: number;
  /** Rounds per tick per tenant while work remains, so a backlog drains without waiting a full interval. */
  rounds_per_tick_max?: number;
  /** Each tenant whose work failed (the round goes on to the next), or `"*"` for the round itself. */
  on_error?: TenantErrorHandler;
  /** Run each tenant's settlement once a day at the cut-off (`serve` turns it on; tests choose). */
  settle?: boolean;
}

export interface Scheduler {
  /** One pass over every tenant; returns how many orders it released. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Releases held funds when return windows end and expires lapsed holds. It
 * keeps nothing in memory between ticks: what is due is read from the
 * database (orders.releasable_at, holds.expires_at), so a restart resumes
 * where it was, and several processes elect one leader per tenant per round.
 */
export function startScheduler(ctx: ServiceContext, options: SchedulerOptions = {}): Scheduler {
  const interval_ms = options.interval_ms ?? 1_000;
  const rounds_max = options.rounds_per_tick_max ?? 20;
  let stopped = false;
  let running: Promise<number> = Promise.resolve(0);

  async function tick(): Promise<number> {
    const tenants = await selectTenantIds(ctx.db);
    let released = 0;
    await forEachTenant(
      tenants,
      async (id) => {
        for (let round = 0; round < rounds_max && !stopped; round++) {
          const count = await releaseDue(ctx, id, releases_per_batch_max, { leader_only: true });
          released += count;
          if (count < releases_per_batch_max) break;
        }
        await expireHolds(ctx, id);
        if (options.settle === true) await settleIfDue(ctx, id);
      },
      options.on_error,
    );
    // Reports' daily aggregates follow the log (src/service/reports/fold.ts).
    if (!stopped) await foldLedgerDays(ctx, options.on_error);
    // Scheduled reports: the file for the period just ended, recorded (docs/reports.md).
    if (!stopped) await runDueReports(ctx);
    return released;
  }

  const timer = setInterval(() => {
    running = running.then(
      () =>
        stopped
          ? 0
          : tick().catch((error: unknown) => {
              options.on_error?.(error, "*");
              return 0;
            }),
      () => 0,
    );
  }, interval_ms);
  timer.unref();

  return {
    tick: () => {
      running = running.then(tick, tick);
      return running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
