import { assert } from "../../core/assert.ts";
import type { Queryable } from "../../store/database.ts";
import { inTransaction } from "../../store/retry.ts";
import type { ServiceContext } from "../context.ts";

// Gives queued events their per-tenant `seq` in commit order. A row is taken
// only once its writing transaction is older than every running transaction
// (`xid < pg_snapshot_xmin(pg_current_snapshot())`), so a transaction that
// commits late can never land behind the cursor: seq order is commit order,
// and a reader resuming after seq N misses nothing. One leader per tenant per
// round, through a transaction-scoped advisory lock.

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
  const lock = await tx.query<{ leader: boolean }>(
    "SELECT pg_try_advisory_xact_lock($1::int4, hashtext($2)) AS leader",
    [events_lock_class, tenant_id],
  );
  if (lock[0]?.leader !== true) return 0;
  const rows = await tx.query<{ sequenced: bigint }>(
    `WITH ready AS (
       SELECT id, row_number() OVER (ORDER BY xid, id) AS n FROM events
        WHERE tenant_id = $1 AND seq IS NULL AND xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY xid, id LIMIT $2),
     top AS (SELECT coalesce(max(seq), 0) AS seq FROM events WHERE tenant_id = $1 AND seq IS NOT NULL)
     UPDATE events e SET seq = top.seq + ready.n FROM ready, top
      WHERE e.tenant_id = $1 AND e.id = ready.id
     RETURNING e.seq AS sequenced`,
    [tenant_id, batch_max],
  );
  return rows.length;
}

/** Tenants with events waiting for a seq. */
export async function tenantsWithPendingEvents(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ tenant_id: string }>(
    "SELECT DISTINCT tenant_id FROM events WHERE seq IS NULL LIMIT $1",
    [sequencer_tenants_per_round_max],
  );
  return rows.map((row) => row.tenant_id);
}

/** One round over every tenant with pending events; returns how many were sequenced. */
export async function sequenceEventsOnce(ctx: ServiceContext): Promise<number> {
  let total = 0;
  for (const tenant_id of await tenantsWithPendingEvents(ctx.db)) {
    // A full batch means more may be ready: keep going while the batch fills.
    for (;;) {
      const count = await inTransaction(ctx.db, (tx) => sequenceTenantEvents(tx, tenant_id));
      total += count;
      if (count < sequencer_batch_max) break;
    }
  }
  return total;
}

export interface SequencerOptions {
  /** Pause between rounds. */
  interval_ms?: number;
  /** Called after a round that sequenced something (the stream hub wakes its readers). */
  on_sequenced?: (count: number) => void;
  on_error?: (error: unknown) => void;
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
      const count = await sequenceEventsOnce(ctx);
      if (count > 0) options.on_sequenced?.(count);
    } catch (error) {
      options.on_error?.(error);
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
