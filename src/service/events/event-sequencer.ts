import { assert } from "../../core/assert.ts";
import { tryTransactionLock } from "../../store/advisory-locks-sql.ts";
import type { Queryable } from "../../store/database.ts";
import {
  numberReadyEvents,
  numberShardEvents,
  selectTenantsWithPendingEvents,
} from "../../store/event-seqs-sql.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";
import { forEachTenant, type TenantErrorHandler } from "../tenant-rounds.ts";

// Gives queued events their per-tenant `seq` in commit order, as rows of
// event_seqs (an event is never updated). A row is taken only once every
// transaction that could still commit an older row has ended: `xid < horizon`,
// so a transaction that commits late never lands behind the cursor (the
// (xid, id) of the last numbered event: every event at or before it is
// numbered, the round takes the ones after it), and a reader resuming after
// seq N misses nothing. The cursor is derived from the last seq rather than
// stored, as the log's is (src/store/log-leaves-sql.ts). One leader per tenant
// per round, through a transaction-scoped advisory lock.
//
// The horizon is `pg_snapshot_xmin(pg_current_snapshot())` narrowed to this
// database: the oldest running xid that belongs to a backend (or prepared
// transaction) of *this* database, else the snapshot's xmax. Snapshot xmin is
// cluster-wide, so a long transaction in another database on the same server
// would otherwise stall every stream (docs/decisions.md §8).
export const sequencer_batch_max = 1000;
export const sequencer_tenants_per_round_max = 100;
// The advisory lock's first key: "ClearSplit events" (the log sequencer uses its own).
const events_lock_class = 0x0c5e_0e01;

/** Sequences one batch for a tenant. Returns how many events got a seq (0 when another process leads). */
export async function sequenceTenantEvents(
  tx: Queryable,
  tenant_id: string,
  batch_max = sequencer_batch_max,
): Promise<number> {
  assert(batch_max >= 1 && batch_max <= sequencer_batch_max, "batch_max out of range");
  if (!(await tryTransactionLock(tx, events_lock_class, tenant_id))) return 0;
  return tx.sharded === true
    ? numberShardEvents(tx, tenant_id, batch_max)
    : numberReadyEvents(tx, tenant_id, batch_max);
}

/** Tenants with events ready to number, at most a round's worth (store/event-seqs-sql.ts). */
export function tenantsWithPendingEvents(db: Queryable): Promise<string[]> {
  return selectTenantsWithPendingEvents(db, sequencer_tenants_per_round_max);
}

/** One round over every tenant with pending events; returns how many were sequenced. */
export async function sequenceEventsOnce(
  ctx: ServiceContext,
  on_error?: TenantErrorHandler,
): Promise<number> {
  let total = 0;
  await forEachTenant(
    await tenantsWithPendingEvents(ctx.db),
    async (tenant_id) => {
      // A full batch means more may be ready: keep going while the batch fills.
      for (;;) {
        const count = await inTransaction(ctx.db, (tx) => sequenceTenantEvents(tx, tenant_id));
        total += count;
        if (count < sequencer_batch_max) break;
      }
    },
    on_error,
  );
  return total;
}

export interface SequencerOptions {
  /** Pause between rounds. */
  interval_ms?: number;
  /** Called after a round that sequenced something (the stream hub wakes its readers). */
  on_sequenced?: (count: number) => void;
  on_error?: TenantErrorHandler;
}

/**
 * Runs the event sequencer in the background until `stop()`. Safe in every
 * process: rounds in other processes lose the advisory lock and do nothing.
 */
export function startEventSequencer(
  ctx: ServiceContext,
  options: SequencerOptions = {},
): { stop(): Promise<void> } {
  const interval_ms = options.interval_ms ?? Number(process.env.CLEARSPLIT_EVENTS_INTERVAL_MS ?? 200);
  assert(Number.isFinite(interval_ms) && interval_ms >= 1, "the sequencer interval must be at least 1 ms");
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();

  const round = async (): Promise<void> => {
    try {
      const count = await sequenceEventsOnce(ctx, (error, tenant_id) => options.on_error?.(error, tenant_id));
      if (count > 0) options.on_sequenced?.(count);
    } catch (error) {
      options.on_error?.(error, "*");
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().then(schedule);
    }, interval_ms);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}
