import {
  checkpointLagMs,
  ensureLogKeys,
  firstUnsequenced,
  type LogKeyStore,
  type Sequencer,
  startSequencer,
} from "../service/tlog/index.ts";
import type { Queryable } from "../store/database.ts";
import type { BenchClock, ScenarioEnv } from "./scenarios/types.ts";

// The transparency log's checkpoint lag during a scenario. A sequencer runs
// for the scenario's tenant, configured as `clearsplit serve` runs it, and the
// runner samples the lag every 250 ms: the age of the oldest record that is
// not yet under a signed checkpoint.

export class LagSampler {
  max_ms: number | null = null;
  private sequencer: Sequencer | null = null;
  private readonly errors: string[] = [];

  constructor(
    private readonly env: Pick<ScenarioEnv, "ctx" | "tenant_id" | "clock">,
    private readonly keys: LogKeyStore,
  ) {}

  async start(): Promise<void> {
    await ensureLogKeys(this.env.ctx.db, this.keys, [this.env.tenant_id]);
    this.sequencer = startSequencer(this.env.ctx, {
      tenant_ids: [this.env.tenant_id],
      keys: this.keys,
      on_error: (error) => {
        if (this.errors.length < 5) this.errors.push(error instanceof Error ? error.message : String(error));
      },
    });
  }

  async sample(): Promise<void> {
    const lag_ms = await lagMs(this.env.ctx.db, this.env.tenant_id, this.env.clock);
    this.max_ms = Math.max(this.max_ms ?? 0, lag_ms);
  }

  /** Stops the sequencer; returns its errors, which fail the bench. */
  async stop(): Promise<string[]> {
    await this.sequencer?.stop();
    this.sequencer = null;
    return this.errors.map((message) => `log sequencer: ${message}`);
  }
}

/**
 * `checkpointLagMs` compares `created_at`, written with the scenario's clock.
 * The lifecycle scenario moves that clock days ahead to reach release dates,
 * so there the age is taken from the wall-clock time inside the oldest
 * record's UUIDv7 id instead.
 */
async function lagMs(db: Queryable, tenant_id: string, clock: BenchClock): Promise<number> {
  if (clock.offset_ms === 0) return checkpointLagMs(db, tenant_id, clock.now());
  const oldest = await firstUnsequenced(db, tenant_id);
  if (!oldest) return 0;
  const created_ms = uuidv7Ms(oldest.id);
  return created_ms === null
    ? checkpointLagMs(db, tenant_id, clock.now())
    : Math.max(0, Date.now() - created_ms);
}

export function uuidv7Ms(id: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7/.test(id)) return null;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
