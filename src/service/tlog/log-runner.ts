import { assert } from "../../core/assert.ts";
import { selectTenantIds } from "../../store/tenants-sql.ts";
import type { TreeEdge } from "../../tlog/index.ts";
import type { ServiceContext } from "../context.ts";
import { sequence_batch_max_default, sequenceOnce } from "./log-sequencer.ts";
import { LogKeyStore } from "./signing-keys.ts";
import { pruneTiles, tile_prune_rows_max } from "./tile-pruning.ts";
import { requestCosignatures, type WitnessConfig, type WitnessResult } from "./witnesses.ts";

// The sequencer loop. Every state that matters lives in the database, so the
// loop can stop and start anywhere; its only memory is the cached tree edge.

export const sequencer_interval_ms_max = 1_000;
/**
 * What `clearsplit serve` runs. A record waits for its own transaction, for
 * every older one still open (the commit horizon), then for the next round:
 * with 500 ms batch transactions that is about 2 × 500 ms + this, so a 1 s
 * checkpoint lag needs rounds well under 500 ms apart. Each round that finds
 * records signs a checkpoint and stores its partial tiles; the partial tiles
 * a wider one supersedes are pruned after it (decision §27).
 */
export const sequencer_interval_ms_default = 250;
const catch_up_rounds_max = 1_000;

export interface SequencerOptions {
  /** Tenants to sequence; absent means every tenant, re-read each round. */
  tenant_ids?: readonly string[];
  /** Pause between rounds, at most 1000 ms. Default sequencer_interval_ms_default. */
  interval_ms?: number;
  witnesses?: readonly WitnessConfig[];
  keys?: LogKeyStore;
  batch_max?: number;
  on_error?: (error: unknown, tenant_id: string) => void;
  on_witness?: (tenant_id: string, results: WitnessResult[]) => void;
}

export interface Sequencer {
  stop(): Promise<void>;
  /** Resolves after the next complete round (tests and benchmarks). */
  settled(): Promise<void>;
}

export function startSequencer(ctx: ServiceContext, options: SequencerOptions = {}): Sequencer {
  const interval_ms = options.interval_ms ?? sequencer_interval_ms_default;
  assert(
    interval_ms >= 0 && interval_ms <= sequencer_interval_ms_max,
    `interval_ms must be 0..${sequencer_interval_ms_max}`,
  );
  const keys = options.keys ?? new LogKeyStore();
  const cache = new Map<string, TreeEdge>();
  // Tenants whose last prune pass left nothing behind. A tenant not in it (each
  // one, once, after a start) is pruned even in a round that signs nothing, so a
  // backlog from before migration 091 is cleared without waiting for new records.
  const prune_settled = new Set<string>();
  const batch_max = options.batch_max ?? sequence_batch_max_default;
  const on_error =
    options.on_error ??
    ((error: unknown, tenant_id: string) =>
      process.stderr.write(
        `sequencer ${tenant_id}: ${error instanceof Error ? error.message : String(error)}\n`,
      ));
  let running = true;
  let wake: (() => void) | undefined;
  let round_waiters: (() => void)[] = [];

  async function sequenceTenant(tenant_id: string): Promise<void> {
    let checkpointed = false;
    for (let round = 0; round < catch_up_rounds_max && running; round++) {
      const result = await sequenceOnce(ctx, tenant_id, { keys, cache, batch_max });
      if (result.status === "checkpointed") checkpointed = true;
      // A full batch means more may be waiting: go again before sleeping.
      if (result.status !== "checkpointed" || result.appended < batch_max) break;
    }
    if (checkpointed && options.witnesses && options.witnesses.length > 0) {
      const results = await requestCosignatures(ctx, tenant_id, options.witnesses);
      options.on_witness?.(tenant_id, results);
    }
    // After the round and its witnesses, in a transaction of its own: superseded
    // partial tiles go in bounded batches (decision §27), so a round never waits
    // for a backlog. A full batch means more is left: the next rounds go on.
    if (checkpointed || !prune_settled.has(tenant_id)) {
      const pruned = await pruneTiles(ctx.db, tenant_id);
      if (pruned.status === "pruned" && pruned.rows < tile_prune_rows_max) prune_settled.add(tenant_id);
      else prune_settled.delete(tenant_id);
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      const tenants =
        options.tenant_ids ??
        (await selectTenantIds(ctx.db).catch((error) => {
          on_error(error, "*");
          return [];
        }));
      for (const tenant_id of tenants) {
        if (!running) break;
        try {
          await sequenceTenant(tenant_id);
        } catch (error) {
          on_error(error, tenant_id);
        }
      }
      const waiters = round_waiters;
      round_waiters = [];
      for (const resolve of waiters) resolve();
      if (!running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval_ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  const done = loop();
  return {
    async stop() {
      running = false;
      wake?.();
      await done;
      for (const resolve of round_waiters) resolve();
    },
    settled() {
      // Wait for a round that starts after this call, so everything committed before it is taken.
      return new Promise<void>((resolve) => {
        let rounds = 0;
        const next = () => {
          rounds++;
          if (rounds >= 2 || !running) resolve();
          else round_waiters.push(next);
        };
        round_waiters.push(next);
        wake?.();
      });
    },
  };
}
